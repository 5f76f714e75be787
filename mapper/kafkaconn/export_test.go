package kafkaconn

// FetchDecoded is fetch through kafka-go's own decoding, for comparison.
var FetchDecoded = fetchDecoded

// DecodeWithKafkaGo has every fetch of f decoded by kafka-go.
func DecodeWithKafkaGo(f *Fetcher) { f.decoded = true }
