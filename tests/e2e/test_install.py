"""make install as a Debian package would (issue 16): PREFIX=/usr puts the
configuration in /etc/fml, the binaries carry the paths of the install they
go to, a reinstall keeps an edited site_init.cf (the shipped one goes beside
it as .dist), the units name the installed programs, install-units puts
them where systemd looks, uninstall removes what install put and keeps the
configuration.  Built in a copy of the tree, so the tree's binaries stay."""
import os
import subprocess

from conftest import ROOT


def sh(cmd, cwd):
    p = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "%s: %s%s" % (cmd, p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


def test_install_prefix_usr_into_destdir(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    sh("tar -C %s --exclude=./build --exclude=./.test-tmp --exclude=./bench/work "
       "--exclude=./demo --exclude=./.git --exclude=./tests/fuzz/out -cf - . | tar -xf -"
       % ROOT, str(src))
    make = "make -s -j2 PREFIX=/usr DESTDIR=%s " % dest
    sh(make + "install", str(src))
    for f in ("usr/libexec/fml/fml", "usr/libexec/fml/fmlproc", "usr/libexec/fml/fmlweb",
              "etc/fml/fmlweb-nginx.conf", "usr/share/man/man8/fmlweb.8", "usr/bin/makefml",
              "usr/bin/fmlqueue", "usr/bin/fmldigest", "etc/fml/site_init.cf",
              "etc/fml/sitedef.cf", "etc/fml/default_config.cf", "usr/share/man/man8/fml.8",
              "usr/share/fml/spool-skel"):
        assert (dest / f).exists(), f
    assert not (dest / "usr/etc").exists()  # not /usr/etc/fml
    binary = (dest / "usr/bin/makefml").read_bytes()
    assert b"/usr/share/fml" in binary and b"/usr/local" not in binary
    unit = (dest / "etc/fml/fmlqueue.service").read_text()
    assert "ExecStart=/usr/bin/fmlqueue run" in unit and "/usr/local" not in unit
    assert "/usr/bin/fmldigest" in (dest / "etc/fml/fmldigest.cron").read_text()
    nginx = (dest / "etc/fml/fmlweb-nginx.conf").read_text()
    assert "/usr/libexec/fml/fmlweb" in nginx and "/usr/local" not in nginx
    # an edited site_init.cf survives a reinstall
    site = dest / "etc/fml/site_init.cf"
    site.write_text(site.read_text() + "\nDOMAINNAME = lists.example.org\n")
    out = sh(make + "install", str(src))
    assert "kept /etc/fml/site_init.cf" in out
    assert "lists.example.org" in site.read_text()
    assert (dest / "etc/fml/site_init.cf.dist").exists()
    # units where systemd looks
    sh(make + "install-units", str(src))
    assert (dest / "etc/systemd/system/fmldigest.timer").exists()
    assert "/usr/bin/fmldigest" in (dest / "etc/systemd/system/fmldigest.service").read_text()
    # uninstall: what install put goes, the configuration stays
    sh(make + "uninstall", str(src))
    assert not (dest / "usr/bin/makefml").exists()
    assert not (dest / "usr/libexec/fml").exists()
    assert not (dest / "etc/systemd/system/fmldigest.timer").exists()
    assert not (dest / "usr/share/man/man8/fml.8").exists()
    assert "lists.example.org" in site.read_text()
