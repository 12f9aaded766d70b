# an fml 4 config.ph an admin edited over the years
$DOMAINNAME = 'lists.example.jp';
$MAIL_LIST = "elena\@lists.example.jp";
$CONTROL_ADDRESS = "elena-ctl\@$DOMAINNAME";
$MAINTAINER = 'fukachan@example.jp';   # the maintainer
$ML_FN = '(エレナ・ロロブリジーダ ML)';
$BRACKET = "Elena";
$SUBJECT_TAG_TYPE = '[:]';
$PERMIT_POST_FROM = 'anyone';
$REJECT_POST_HANDLER = 'auto_subscribe';
$INCOMING_MAIL_SIZE_LIMIT = 512000;
$MODERATOR_EXPIRE_LIMIT = 7;
$CONFIRMATION_EXPIRE = 48;
$HTML_MAIL_DEFAULT_HANDLER = 'strip';
$AUTO_HTML_GEN = 1;
$HTML_INDEX_UNIT = 'day';
$HTML_EXPIRE_LIMIT = 30;
$USE_DISTRIBUTE_FILTER = 1;
&ADD_CONTENT_HANDLER('multipart/.*', 'text/plain', 'allow');
&ADD_CONTENT_HANDLER('multipart/.*', '.*/.*', 'strip');
&ADD_CONTENT_HANDLER('!MIME', '.*/.*', 'allow');
&DEFINE_FIELD_FORCED('reply-to', $MAIL_LIST);
&DEFINE_FIELD_PAT_TO_REJECT('subject', 'viagra');
$START_HOOK = q# $e{'h:X-Foo:'} = "bar; baz"; #;
@MEMBER_LIST = ("$DIR/members", "$DIR/members-admin");
$PRECEDENCE = 'list';   # "bulk" upsets some filters
$SMTP_LOG = "$VARLOG_DIR/_smtplog";
1;
