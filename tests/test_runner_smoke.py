from lpsectl.config import HostConfig, SshSettings
from lpsectl.remote.runner import SshRunner
from tests.fixtures.sshd import TEST_USER


def test_ssh_runner_runs_argv(sshd_factory, ssh_client_key, tmp_path):
    host = sshd_factory.start("smoke")
    kh = tmp_path / "known_hosts"
    kh.write_text(host.known_hosts_line + "\n")
    ssh = SshSettings(
        known_hosts=str(kh),
        key_file=str(ssh_client_key),
        user=TEST_USER,
        ssh_config=str(tmp_path / "none"),
    )
    runner = SshRunner(HostConfig(name="smoke", address=host.address, port=host.port), ssh)
    result = runner.run(["echo", "a b; $(id)"])
    runner.close()
    assert result.ok
    assert result.text == "a b; $(id)\n"
