module github.com/mapperhq/mapper

go 1.26

require github.com/aymanbagabas/go-udiff v0.4.1

require (
	github.com/klauspost/compress v1.15.9 // indirect
	github.com/pierrec/lz4/v4 v4.1.15 // indirect
	github.com/segmentio/kafka-go v0.4.51 // indirect
)
