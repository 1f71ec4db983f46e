import hashlib

from osa_aio.steps import Directory, FileContent
from osa_aio.transport.base import put
from tests.fakes import FakeRunner


def fact(content, meta="644:root:root"):
    return (0, f"{hashlib.sha256(content.encode()).hexdigest()}\n{meta}\n")


def test_file_content_decisions():
    assert FileContent(FakeRunner({("sh",): (0, "absent\n")}), "/etc/x", "a").check() == "absent"
    assert FileContent(FakeRunner({("sh",): fact("a")}), "/etc/x", "a").check() is None
    assert FileContent(FakeRunner({("sh",): fact("b")}), "/etc/x", "a").check() == "content differs"
    assert FileContent(FakeRunner({("sh",): fact("a", "600:root:root")}), "/etc/x", "a").check() == \
        "mode/owner 600:root:root"
    assert FileContent(FakeRunner({("sh",): fact("a", "640:root:keystone")}), "/etc/x", "a",
                       mode=0o640, group="keystone").check() is None


def test_put_sends_content_on_stdin_and_renames_into_place():
    runner = FakeRunner()
    put(runner, "/etc/keystone/keystone.conf", "secret-content", mode=0o640, owner="root", group="keystone")
    argv = runner.calls[0]
    assert argv[:2] == ["sh", "-c"] and argv[4:] == ["/etc/keystone/keystone.conf.osa-aio-tmp", "640",
                                                      "root:keystone", "/etc/keystone/keystone.conf"]
    assert runner.stdins[0] == "secret-content"
    assert "secret-content" not in " ".join(argv)


def test_directory_decisions():
    assert Directory(FakeRunner({("stat",): (1, "")}), "/d").check() == "absent"
    assert Directory(FakeRunner({("stat",): (0, "directory:755:root:root\n")}), "/d").check() is None
    assert Directory(FakeRunner({("stat",): (0, "regular file:644:root:root\n")}), "/d").check() == \
        "is regular file:644:root:root"
    assert Directory(FakeRunner({("stat",): (0, "directory:700:root:root\n")}), "/d", 0o700, "keystone").check() \
        == "is directory:700:root:root"
