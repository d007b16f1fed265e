"""A Python service asking authzd for decisions over gRPC.

Stubs are generated from ../../../proto on first run (grpcio-tools, no system protoc).

    python3 -m pip install -r requirements.txt
    python3 client.py [--target 127.0.0.1:9191 | --target unix:///run/authzd/grpc.sock]
"""

import argparse
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
PROTO = HERE.parent.parent.parent / "proto"
GENERATED = HERE / "authzd_pb"


def generate_stubs():
    """Compiles proto/authzd/v1/authzd.proto into ./authzd_pb (once)."""
    marker = GENERATED / "authzd" / "v1" / "authzd_pb2_grpc.py"
    if marker.exists():
        return
    import grpc_tools
    from grpc_tools import protoc

    GENERATED.mkdir(exist_ok=True)
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    code = protoc.main([
        "grpc_tools.protoc",
        f"-I{PROTO}",
        f"-I{well_known}",
        f"--python_out={GENERATED}",
        f"--grpc_python_out={GENERATED}",
        str(PROTO / "authzd" / "v1" / "authzd.proto"),
    ])
    if code != 0:
        sys.exit(f"protoc failed with {code}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:9191", help="authzd's gRPC address")
    args = parser.parse_args()

    generate_stubs()
    sys.path.insert(0, str(GENERATED))
    import grpc
    from authzd.v1 import authzd_pb2, authzd_pb2_grpc

    # grpc-core sends the socket path as the HTTP/2 :authority of a unix: target ("tmp%2F..."),
    # which authzd's HTTP/2 stack rejects as malformed; any plain host name will do.
    options = [("grpc.default_authority", "localhost")] if args.target.startswith("unix:") else []
    with grpc.insecure_channel(args.target, options=options) as channel:
        authorizer = authzd_pb2_grpc.AuthorizerStub(channel)

        # May customer 10001 view order 42, which they own?
        owner_view = {
            "subject": {"id": "10001", "roles": ["customer"]},
            "action": "view",
            "resource": {"type": "order", "id": "42", "owner": "10001"},
        }
        response = authorizer.Decide(authzd_pb2.DecideRequest(
            path="orders/allow", input_json=json.dumps(owner_view).encode()))
        allowed = json.loads(response.result_json) if response.defined else None
        print(f"orders/allow owner view: {json.dumps(allowed)} "
              f"(decision {response.decision_id}, revisions {dict(response.revisions)})")

        # And someone else? Ask for the full decision, with the reasons.
        other_view = dict(owner_view, subject={"id": "10002", "roles": ["customer"]})
        response = authorizer.Decide(authzd_pb2.DecideRequest(
            path="orders/decision", input_json=json.dumps(other_view).encode()))
        print(f"orders/decision other user: {response.result_json.decode()}")

        if allowed is not True:
            sys.exit("unexpected decision")


if __name__ == "__main__":
    main()
