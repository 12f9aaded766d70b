#!/bin/sh
# make demo: a demo list under ./demo, a post piped through fml exactly as
# an /etc/aliases pipe would, and what came out of it.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
ML_DIR=$top/demo/ml
rm -rf "$top/demo"
mkdir -p "$ML_DIR"
chmod 755 "$top/demo" "$ML_DIR"
# fml never runs as root: when started as root it becomes the owner of the
# list home, so the demo list belongs to an unprivileged user.
if [ "$(id -u)" = 0 ]; then chown nobody "$ML_DIR"; fi

echo "== makefml newml demo example.org"
fml/makefml -D "$ML_DIR" newml demo example.org
for a in alice@example.com bob@example.net carol@example.org; do
	fml/makefml -D "$ML_DIR" add demo "$a"
done
fml/makefml -D "$ML_DIR" config demo SUBJECT_TAG_TYPE '[:]' >/dev/null
# The demo may run without a network: no DMARC lookups (fml.cf(5): a post
# whose domain's policy cannot be looked up is sent as the list's own)
fml/makefml -D "$ML_DIR" config demo DMARC_MITIGATION never >/dev/null
fml/makefml -D "$ML_DIR" skip demo carol@example.org
# The demo delivers into local maildirs instead of a relay, before fml exits.
MAILDIRS=$top/demo/maildirs
mkdir -p "$MAILDIRS"
if [ "$(id -u)" = 0 ]; then chown nobody "$MAILDIRS"; fi
fml/makefml -D "$ML_DIR" config demo SMTP_SERVERS "maildir:$MAILDIRS" >/dev/null
fml/makefml -D "$ML_DIR" config demo DELIVERY_MODE foreground >/dev/null
# and keeps an HTML archive (static pages for any web server; fmlweb(8))
fml/makefml -D "$ML_DIR" config demo HTML_ARCHIVE 1 >/dev/null

echo
echo "== a post from alice, piped into: fml $ML_DIR/demo"
cat > "$top/demo/post.eml" <<'MAIL'
From: Alice Example <alice@example.com>
To: demo@example.org
Subject: Re: [demo:00000] Hello from the demo
Message-ID: <demo-1@example.com>
Date: Sat, 21 Nov 2026 10:00:00 +0000

Hello, everyone.  This post went through fml's alias pipe.
MAIL
set +e
SENDER=alice@example.com fml/fml "$ML_DIR/demo" < "$top/demo/post.eml"
rc=$?
set -e
echo "exit status: $rc (0 = accepted)"

echo
echo "== the article as distributed: $ML_DIR/demo/spool/1"
cat "$ML_DIR/demo/spool/1"
echo
echo "== summary, seq and log"
cat "$ML_DIR/demo/summary"
echo "seq: $(cat "$ML_DIR/demo/seq")"
cat "$ML_DIR/demo/log"
echo
echo "== the queue item, delivered: var/queue/sent/a1 (envelope part)"
sed -n '1,/^$/p' "$ML_DIR/demo/var/queue/sent/a1"
echo "(carol is a member with s=skip: she may post but receives nothing)"
echo
echo "== delivered into the maildirs under $MAILDIRS"
for f in "$MAILDIRS"/*/new/*; do
	echo "$f"
done
echo
echo "== what bob received"
cat "$MAILDIRS"/bob@example.net/new/*
echo
echo "== fmlqueue stats $ML_DIR/demo"
fml/fmlqueue stats "$ML_DIR/demo"
echo
echo "== the HTML archive: $ML_DIR/demo/htdocs (fml makes the pages after the post, detached;"
echo "   makefml htmlify demo makes them all again)"
fml/makefml -D "$ML_DIR" htmlify demo
find "$ML_DIR/demo/htdocs" -type f | sort
echo "open file://$ML_DIR/demo/htdocs/index.html in a browser, or serve the directory"
