# syntax=docker/dockerfile:1
# The message service image. Build from the repository root:
#   docker build -t messages-app .
#
# Stage 1 compiles the release binary with the Rust toolchain; stage 2 ships only that binary
# on distroless (glibc, CA certificates, no shell), running as a non-root user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The whole workspace is needed to resolve it; .dockerignore keeps out everything else.
COPY Cargo.toml Cargo.lock ./
COPY app ./app
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p app \
 && cp target/release/app /usr/local/bin/app

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/app /usr/local/bin/app
ENV PORT=5000 ENV=prod
EXPOSE 5000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/app"]
