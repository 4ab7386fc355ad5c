package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/godwit-dms/godwit/internal/api"
)

// decode parses an AWS JSON request body into v. An empty body is an empty
// object. Malformed JSON, a body that is not an object and members of the
// wrong type are SerializationExceptions naming the member.
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return api.NewFault(api.CodeSerialization, "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return serializationFault(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return api.NewFault(api.CodeSerialization, "The request body has data after the JSON object.")
	}
	return nil
}

func serializationFault(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return api.NewFault(api.CodeSerialization, "The request body is not valid JSON (at byte %d): %s.", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the request"
		}
		return api.NewFault(api.CodeSerialization, "Member %s must be %s, not a JSON %s.", field, describeGoType(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return api.NewFault(api.CodeSerialization, "The request body is truncated JSON.")
	}
	return api.NewFault(api.CodeSerialization, "The request body could not be read: %s.", err.Error())
}

func describeGoType(t string) string {
	switch t {
	case "string", "*string":
		return "a string"
	case "int32", "int64", "*int32", "*int64":
		return "an integer"
	case "float64", "*float64":
		return "a number"
	case "bool", "*bool":
		return "a boolean"
	case "[]uint8":
		return "a base64 string"
	}
	if len(t) > 2 && t[:2] == "[]" {
		return "a list"
	}
	if len(t) > 0 && t[0] == '*' || len(t) > 4 && t[:4] == "api." {
		return "an object"
	}
	return fmt.Sprintf("of type %s", t)
}
