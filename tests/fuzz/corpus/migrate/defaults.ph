# fml 4.0 config.ph as makefml newml writes it (the cf defaults of
# etc/makefml/cf for list elena at example.org)
$DOMAINNAME = 'example.org';
$FQDN = 'example.org';
$MAIL_LIST = "elena\@$DOMAINNAME";
$CONTROL_ADDRESS = "elena-ctl\@$DOMAINNAME";
$MAINTAINER = "elena-admin\@$DOMAINNAME";
$OUTGOING_ADDRESS = "elena-outgoing\@$DOMAINNAME";
$ML_FN = '(elena ML)';
$XMLNAME = 'X-ML-Name: elena';
$XMLCOUNT = 'X-Mail-Count';
$BRACKET = 'elena';
$SUBJECT_TAG_TYPE = '';
$PERMIT_POST_FROM = 'members_only';
$REJECT_POST_HANDLER = 'reject';
$PERMIT_COMMAND_FROM = 'members_only';
$REJECT_COMMAND_HANDLER = 'reject';
$AUTO_REGISTRATION_TYPE = 'confirmation';
$REWRITE_TO = 0;
$DATE_TYPE = 'original-date';
$USE_MIME = 1;
$USE_FLOCK = 1;
$USE_RFC2369 = 1;
$MAXNUM_COMMAND_INPUT = 0;
$LANGUAGE = 'Japanese';
$SPOOL_DIR = "$DIR/spool";
$TMP_DIR = './tmp';
$VARDB_DIR = 'var/db';

1;
