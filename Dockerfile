# syntax=docker/dockerfile:1
# The authzd image: the release binary on distroless "cc" (glibc, libgcc; no shell, no package
# manager), running as the non-root user 65532 that the chart's securityContext expects.
#
#   docker build -t registry.example.com/authzd:0.1.0 .
#   docker run --rm -p 127.0.0.1:8181:8181 -v "$PWD/policies:/policies:ro" \
#     registry.example.com/authzd:0.1.0 run --bundle /policies --addr :8181
#
# No bundle is baked in: policies come from the chart (a ConfigMap or a bundle server) or a
# mount. Started without one, authzd looks for ./policies, finds nothing and exits non-zero, so
# a misconfigured pod crash-loops instead of serving decisions from policies nobody chose.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The whole workspace: Cargo.toml names the benches and examples, build.rs compiles proto/.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin authzd \
 && install -D -m 0755 target/release/authzd /out/authzd

# Same Debian release as the builder, so the glibc the binary was linked against is there.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/authzd /usr/local/bin/authzd
USER 65532:65532
# HTTP, gRPC (both bound to 127.0.0.1 unless --addr/--grpc-addr say otherwise), diagnostic.
EXPOSE 8181 9191 8282
# `docker run IMAGE` is `authzd run`; Kubernetes `args` (the chart renders `run ...`) replace
# the CMD, and `authzd eval|test|build` work too.
ENTRYPOINT ["/usr/local/bin/authzd"]
CMD ["run"]
