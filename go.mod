module github.com/mapperhq/mapper

go 1.26

require (
	github.com/aymanbagabas/go-udiff v0.4.1
	github.com/goccy/go-yaml v1.19.2
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1
	github.com/segmentio/kafka-go v0.4.51
	github.com/valyala/fastjson v1.6.10
)

require (
	github.com/klauspost/compress v1.15.9 // indirect
	github.com/pierrec/lz4/v4 v4.1.15 // indirect
)
