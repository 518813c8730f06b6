"""Options shared by subcommands and turning them into a run Context."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from smewizard import validate
from smewizard.dns import Dns, parse_nameserver
from smewizard.host import LocalHost
from smewizard.steps.base import Context

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="treat DIR as the server's / (a simulated or copied SME root; on the server with --host)",
    )
    parser.add_argument(
        "--host",
        metavar="[USER@]SERVER[:PORT]",
        help="run every probe and action on this server over SSH (your OpenSSH config, agent and known_hosts)",
    )
    parser.add_argument(
        "--ssh-config", metavar="FILE", help="OpenSSH client config file to use with --host (ssh -F)"
    )
    parser.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="ask this DNS server instead of the system resolver (repeatable)",
    )
    parser.add_argument(
        "--public-ip",
        metavar="IP",
        action="append",
        default=[],
        help="the server's public IP, when SME and DNS cannot tell it (repeatable)",
    )
    parser.add_argument(
        "--spf-network",
        metavar="CIDR",
        action="append",
        default=[],
        help="a subnet your provider allocated you, to authorise in SPF instead of single IPs",
    )
    parser.add_argument(
        "--domain",
        action="append",
        default=[],
        help="only look at this hosted domain (repeatable)",
    )
    parser.add_argument(
        "--dns-timeout", type=float, default=3.0, metavar="SECONDS", help="per-lookup timeout"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show the exact commands every change would run, and change nothing",
    )


def build_context(args: argparse.Namespace) -> Context:
    """Validate every option and build the Context; raises validate.InvalidValue."""
    nameservers = [parse_nameserver(n) for n in args.nameserver]
    if not 0.1 <= args.dns_timeout <= 60:
        raise validate.InvalidValue("--dns-timeout must be between 0.1 and 60 seconds")
    # Every value is checked before connecting, so a typo never costs an SSH round trip.
    public_ips = tuple(validate.ip_address(ip) for ip in args.public_ip)
    spf_networks = tuple(validate.ip_network(n) for n in args.spf_network)
    only_domains = tuple(dict.fromkeys(validate.domain_name(d) for d in args.domain))
    host = make_host(args)
    return Context(
        host=host,
        dns=Dns(nameservers or None, timeout=args.dns_timeout),
        public_ips=public_ips,
        spf_networks=spf_networks,
        only_domains=only_domains,
        dry_run=bool(getattr(args, "dry_run", False)),
    )


def require_sme_server(ctx: Context) -> None:
    """Refuse to audit a machine that has no e-smith databases: every finding would be noise
    and every proposed change a guess."""
    if not ctx.host.exists("/home/e-smith/db/configuration"):
        raise validate.InvalidValue(
            "this machine does not look like an SME server (no /home/e-smith/db/configuration). "
            "Run it on the server, use --host root@SERVER, point --root at a copy of one, "
            "or try `smewizard demo`."
        )


def require_hosted(ctx: Context, hosted: Sequence[str]) -> None:
    """--domain names a domain the server does not host: say so instead of auditing nothing."""
    unknown = [d for d in ctx.only_domains if d not in hosted]
    if unknown:
        listed = ", ".join(hosted) if hosted else "none"
        raise validate.InvalidValue(
            f"--domain {', '.join(unknown)}: not hosted on this server (hosted domains: {listed})"
        )


def make_host(args: argparse.Namespace):
    if getattr(args, "root", None) is not None and not args.root.strip():
        raise validate.InvalidValue("--root needs a directory (it was empty)")
    if getattr(args, "host", None):
        from smewizard.host.ssh import SshHost

        if args.root and not args.root.startswith("/"):
            raise validate.InvalidValue("--root with --host must be an absolute path on the server")
        host = SshHost(args.host, root=args.root, ssh_config=args.ssh_config)
        host.connect()
        return host
    if getattr(args, "root", None):
        from pathlib import Path

        root = Path(args.root)
        if not (root / "home/e-smith/db").is_dir():
            raise validate.InvalidValue(
                f"--root {args.root}: no home/e-smith/db inside; is this an SME root?"
            )
        return LocalHost(root)
    return LocalHost(None)


def close_host(ctx: Context) -> None:
    close = getattr(ctx.host, "close", None)
    if close:
        close()


def error(message: str) -> None:
    print(f"smewizard: error: {message}", file=sys.stderr)
