/*
 * libFuzzer target for lib/actions/htmlarch.c: an article (any bytes) as
 * the HTML archive's page of it, with its parts saved under a scratch
 * directory.  Beyond "no crash, no leak, no UB" it checks what keeps a
 * reader's browser safe:
 *   - every tag of the page is one the archive writes (no <script>, no
 *     <img>, nothing the article could have brought in), and no attribute
 *     starts an event handler;
 *   - every link is relative (the archive's own pages and saved parts) or
 *     http(s): never javascript:, data: or anything else;
 *   - saved parts stay in their article's directory, under safe names.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "actions/htmlarch.h"
#include "fuzz.h"
#include "list/config.h"

static config *cf;
static char root[] = "/tmp/fuzz-htmlarch-XXXXXX";

static const char *const tags[] = {"!DOCTYPE", "html",	  "head", "meta", "title", "link",
				   "body",     "header",  "nav",  "a",	  "main",  "article",
				   "h1",       "h2",	  "dl",	  "dt",	  "dd",	   "pre",
				   "span",     "section", "ul",	  "li",	  "p",	   NULL};

static void check_tags(const char *s, size_t n)
{
	for (const char *p = s; (p = memchr(p, '<', (size_t)(s + n - p)));) {
		p++;
		if (*p == '/')
			p++;
		size_t l = strcspn(p, " >\n");
		int known = 0;
		for (int i = 0; tags[i] && !known; i++)
			known = strlen(tags[i]) == l && strncasecmp(p, tags[i], l) == 0;
		CHECK(known);
		const char *e = memchr(p, '>', (size_t)(s + n - p));
		CHECK(e);
		/* attributes (NAME or NAME="VALUE", the value escaped): no
		 * handler, links relative or http(s) */
		for (const char *q = p + l; q < e;) {
			while (q < e && (*q == ' ' || *q == '\n' || *q == '/'))
				q++;
			const char *name = q;
			while (q < e && *q != '=' && *q != ' ')
				q++;
			size_t nl = (size_t)(q - name);
			const char *v = q, *ve = q;
			if (q < e && *q == '=') {
				CHECK(q[1] == '"');
				v = q + 2;
				ve = memchr(v, '"', (size_t)(e - v));
				CHECK(ve);
				q = ve + 1;
			}
			CHECK(!(nl >= 2 && strncasecmp(name, "on", 2) == 0));
			if (nl == 4 && strncasecmp(name, "href", 4) == 0) {
				int ok = strncasecmp(v, "http://", 7) == 0 ||
					 strncasecmp(v, "https://", 8) == 0 ||
					 strncmp(v, "../", 3) == 0 || (v[0] >= '0' && v[0] <= '9');
				CHECK(ok && ve > v);
			}
		}
	}
}

static void clean(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' &&
		    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			CHECK(depth < 2); /* root/a/1/NAME: never deeper */
			clean(p, depth + 1);
			rmdir(p);
		} else {
			CHECK(e->d_name[0] != '.' || depth == 0); /* no hidden files made */
			unlink(p);
		}
	}
	if (d)
		closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	if (!cf) {
		str err = STR_INIT;
		cf = config_new();
		config_args ca = {"/nonexistent/ml/elena", NULL,	  0, NULL, 0,
				  "/nonexistent",	   "/nonexistent"};
		CHECK(config_load(cf, &ca, &err) == ST_OK);
		CHECK(mkdtemp(root) != NULL);
		str_free(&err);
	}
	int fd = memfd_create("article", 0);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	list_ctx l = {"/nonexistent/ml/elena", cf, 0};
	str page = STR_INIT;
	fml_status st = htmlarch_page(&l, root, 1, fd, (off_t)size, &page);
	CHECK(st == ST_OK);
	check_tags(page.s, page.len);
	close(fd);
	str_free(&page);
	clean(root, 0);
	return 0;
}
