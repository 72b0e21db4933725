# syntax=docker/dockerfile:1
# refhub: one static binary on a distroless base, running as a non-root user.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/refhub/refhub/app.Version=${VERSION}" \
      -o /out/refhub ./cmd/refhub

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/refhub /usr/local/bin/refhub
USER 65532:65532
ENV REFHUB_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/usr/local/bin/refhub", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/refhub"]
CMD ["serve"]
