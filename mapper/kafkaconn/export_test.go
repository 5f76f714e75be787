package kafkaconn

// FetchDecoded is fetch through kafka-go's own decoding, for comparison.
var FetchDecoded = fetchDecoded

// DecodeWithKafkaGo has every fetch of f decoded by kafka-go.
func DecodeWithKafkaGo(f *Fetcher) { f.decoded = true }

// TestBatch is a v2 record batch at base of records with the given values.
var TestBatch = testBatch
