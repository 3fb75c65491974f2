"""dump --compress (Documentation/images.md, "Compressed page files"): every
page file starts with the CRIUZSTD header and inventory.img says so; a
restore opens them into TMPDIR and leaves nothing there; a page file with one
byte changed is refused with nothing created and the images untouched; the
options it cannot be combined with yet are refused with the tree running."""
import glob
import os
import shutil
import signal


def page_files(d):
    return sorted(glob.glob(os.path.join(d, "pages-*.img")))


def flip(d):
    path = page_files(d)[0]
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 1]))


def refused_options(e2e, p, tmp, env):
    for opts, text in [(["--encrypt-key", "/nonexistent"], "--compress with --encrypt-key: not supported yet"),
                       (["--page-server", "--port", "1"], "--compress with --page-server: not supported yet")]:
        d = os.path.join(tmp, "refused")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        rc, out = e2e.criu(["dump", "-t", str(p.pid), "-D", d, "--compress"] + opts, d, env)
        if rc == 0 or text not in out:
            raise e2e.CaseFailed("--compress %s: rc %d, %r" % (opts[0], rc, out.strip()[-300:]))
        if p.poll() is not None:
            raise e2e.CaseFailed("the tree did not run on after a refused dump")
        shutil.rmtree(d)


def flow(e2e, p, tmp, dopts, ropts, env):
    imgs = os.path.join(tmp, "imgs")
    env = dict(env, TMPDIR=os.path.join(tmp, "tmpdir"))
    os.makedirs(env["TMPDIR"])
    refused_options(e2e, p, tmp, env)
    e2e.dump(p.pid, imgs, ["--compress"] + dopts, env)
    if p.wait(timeout=20) != -signal.SIGKILL:
        raise e2e.CaseFailed("after dump the task ended with %s, not SIGKILL" % p.returncode)
    e2e.tree_gone(tmp)
    pages = page_files(imgs)
    for f in pages:
        with open(f, "rb") as fh:
            if fh.read(8) != b"CRIUZSTD":
                raise e2e.CaseFailed("%s is not compressed" % os.path.basename(f))
    if not pages:
        raise e2e.CaseFailed("no page files")
    bad = os.path.join(tmp, "imgs-flipped")
    shutil.copytree(imgs, bad)
    flip(bad)
    before = e2e.images_digest(bad)
    try:
        e2e.restore(bad, ropts, env, p.pid)
    except e2e.CaseFailed as e:
        if "pages-" not in str(e):
            raise e2e.CaseFailed("a flipped page byte: refused, but naming no page file: %s" % e)
    else:
        raise e2e.CaseFailed("a flipped page byte: restored")
    if os.path.exists("/proc/%d" % p.pid):
        raise e2e.CaseFailed("pid %d exists after the refused restore" % p.pid)
    if e2e.images_digest(bad) != before or os.listdir(env["TMPDIR"]):
        raise e2e.CaseFailed("the refused restore changed the images or left %s in TMPDIR" %
                             os.listdir(env["TMPDIR"]))
    e2e.restore(imgs, ropts, env, p.pid)
    if os.listdir(env["TMPDIR"]):
        raise e2e.CaseFailed("the restore left %s in TMPDIR" % os.listdir(env["TMPDIR"]))
    os.kill(p.pid, signal.SIGTERM)
    return e2e.wait_pid(p.pid, 30)
