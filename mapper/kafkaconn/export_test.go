package kafkaconn

// FetchDecoded is fetch through kafka-go's own decoding, for comparison.
var FetchDecoded = fetchDecoded
