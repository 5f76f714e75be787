package mapper

import "github.com/valyala/fastjson"

// kindOf is the JSON type of a parsed value, every number as tNumber
// (valueType tells integers apart where a schema needs it).
func kindOf(v *fastjson.Value) jsonType {
	switch v.Type() {
	case fastjson.TypeNull:
		return tNull
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return tBool
	case fastjson.TypeString:
		return tString
	case fastjson.TypeArray:
		return tArray
	case fastjson.TypeObject:
		return tObject
	}
	return tNumber
}

// kindName names a value's JSON type: "object", "array", "string",
// "number", "boolean" or "null". Every failure detail and problem that
// names a JSON type goes through typeName, typeList or typeArticle.
func kindName(v *fastjson.Value) string { return typeName(kindOf(v)) }
