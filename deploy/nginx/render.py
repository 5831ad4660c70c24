"""Fill in crm.conf.template's placeholders, the way the proxy image's envsubst does.

    python deploy/nginx/render.py --listen 127.0.0.1:8080 --upstream 127.0.0.1:8000 OUT

Used by `make lint` (then `nginx -t`) and by the proxy test, so that what they check is the
file the container runs.
"""

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("crm.conf.template")
PLACEHOLDER = re.compile(r"\$\{(CRM_[A-Z_]+)\}")


def render(*, listen: str, upstream: str) -> str:
    values = {"CRM_LISTEN": listen, "CRM_UPSTREAM": upstream}
    text = TEMPLATE.read_text()
    unknown = set(PLACEHOLDER.findall(text)) - values.keys()
    if unknown:
        raise SystemExit(f"{TEMPLATE}: no value for {', '.join(sorted(unknown))}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="e.g. 127.0.0.1:8080 or 8080")
    parser.add_argument("--upstream", required=True, help="gunicorn's host:port")
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    args.output.write_text(render(listen=args.listen, upstream=args.upstream))


if __name__ == "__main__":
    main(sys.argv[1:])
