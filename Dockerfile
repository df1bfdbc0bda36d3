# Kaiwa's container image, for linux/amd64 and linux/arm64 (AgentCore Runtime and Fargate on
# Graviton run arm64):
#
#   docker buildx build --platform linux/arm64,linux/amd64 -t kaiwa .
#   docker run -p 8080:8080 -v kaiwa-data:/data kaiwa
#
# The build stage makes the release artifact with scripts/build-release; the runtime stage is
# Debian slim with the packages in deploy/runtime-packages.txt and nothing else. Docker does
# not run on the machine the tests run on, so scripts/test-release runs the same artifact
# with the same packages in an empty root (chroot) instead.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
# The Lambda Web Adapter: an extension that only Lambda starts (deploy/lambda-function-url.yaml,
# deploy/api-gateway.yaml); elsewhere the file just sits there.
ARG LAMBDA_ADAPTER_IMAGE=public.ecr.aws/awsguru/aws-lambda-adapter:0.9.1
FROM ${LAMBDA_ADAPTER_IMAGE} AS lambda-adapter

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources Sources
COPY web web
COPY scripts/build-release scripts/build-release
COPY scripts/lib scripts/lib
RUN scripts/build-release /release-root

FROM ${RUNTIME_IMAGE}
COPY deploy/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && grep -v '^#' /tmp/runtime-packages.txt | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin kaiwa \
    && mkdir -p /data && chown kaiwa /data
COPY --from=build /release-root/ /
COPY --from=lambda-adapter /lambda-adapter /opt/extensions/lambda-adapter
USER kaiwa
WORKDIR /data
# 0.0.0.0 inside the container; AgentCore Runtime expects port 8080. SQLite suits one
# container on a volume; on AWS set KAIWA_STORE=dynamodb (docs/deploy/).
ENV KAIWA_HOST=0.0.0.0 \
    KAIWA_PORT=8080 \
    KAIWA_SQLITE_PATH=/data/kaiwa.sqlite \
    KAIWA_LOG_FORMAT=json
EXPOSE 8080
# bash's /dev/tcp: no curl in the image.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${KAIWA_PORT} && printf 'GET /ping HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/app/kaiwa"]
CMD ["serve"]
