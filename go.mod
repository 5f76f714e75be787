module github.com/mapperhq/mapper

go 1.26

require (
	github.com/goccy/go-yaml v1.19.2 // indirect
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1 // indirect
	github.com/valyala/fastjson v1.6.10 // indirect
)
