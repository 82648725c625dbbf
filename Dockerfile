# scimbridge's container image: the binary only, non-root.
#
#   docker build -t scimbridge .                 # the default target: distroless, no shell
#   docker build --target ci -t scimbridge-ci .  # for CI systems whose jobs need a shell (GitLab)
#   kubectl apply -k deploy/kubernetes/tenants/acme   # watch per tenant pair (README, "Fleets")
#   docker run --rm -e OKTA_ORG_URL -e OKTA_API_TOKEN … -v "$PWD:/work" -w /work scimbridge plan -c prod.yaml
#
# Build stage: the locked dependencies, a release build of the one binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY examples ./examples
COPY schemas ./schemas
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin scimbridge \
 && strip target/release/scimbridge

# For CI jobs that run shell scripts: Debian slim with a shell, CA certificates, curl and jq
# (the GitLab pipeline uses them to post the plan note and fetch the reviewed plan).
FROM debian:bookworm-slim AS ci
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl jq \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home scimbridge
COPY --from=build /src/target/release/scimbridge /usr/local/bin/scimbridge
USER 10001:10001
CMD ["scimbridge", "--help"]

# The default image: the binary on distroless (glibc and CA certificates, no shell), non-root.
# The user is numeric (distroless's nonroot, 65532): Kubernetes' runAsNonRoot can only verify a
# numeric user, and refuses to start a container whose image names one.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /src/target/release/scimbridge /usr/local/bin/scimbridge
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/scimbridge"]
CMD ["--help"]
