package catalog

import "slices"

// EndpointSetting is one row of DescribeEndpointSettings.
type EndpointSetting struct {
	Name          string // member name in the engine's settings block
	Type          string // "string", "boolean", "integer" or "enum"
	EnumValues    []string
	Sensitive     bool
	Units         string
	Applicability string // "source", "target" or "source-target"
	IntValueMin   *int32
	IntValueMax   *int32
	DefaultValue  string
}

// Setting types and applicability values, short so the tables stay readable.
const (
	tString = "string"
	tBool   = "boolean"
	tInt    = "integer"
	tEnum   = "enum"

	src  = "source"
	tgt  = "target"
	both = "source-target"
)

func i32(n int32) *int32 { return &n }

// settingsByBlock maps a settings block to its catalogue.
var settingsByBlock = map[string][]EndpointSetting{
	"PostgreSQLSettings":         postgresSettings,
	"MySQLSettings":              mysqlSettings,
	"GcpMySQLSettings":           gcpMySQLSettings,
	"S3Settings":                 s3Settings,
	"MicrosoftSQLServerSettings": sqlServerSettings,
	"OracleSettings":             oracleSettings,
	"SybaseSettings":             sybaseSettings,
	"IBMDb2Settings":             db2Settings,
	"MongoDbSettings":            mongoDbSettings,
	"DocDbSettings":              docDbSettings,
	"KinesisSettings":            kinesisSettings,
	"KafkaSettings":              kafkaSettings,
	"ElasticsearchSettings":      elasticsearchSettings,
	"DynamoDbSettings":           dynamoDbSettings,
	"NeptuneSettings":            neptuneSettings,
	"RedshiftSettings":           redshiftSettings,
	"RedisSettings":              redisSettings,
	"DmsTransferSettings":        dmsTransferSettings,
	"TimestreamSettings":         timestreamSettings,
}

// EndpointSettings returns DescribeEndpointSettings' catalogue for an engine:
// the members of its settings block with type, enum values, units, range and
// default. Settings that only apply to a role the engine does not support are
// left out (a target-only engine lists no source-only settings). ok is false
// for an unknown engine.
func EndpointSettings(engineName string) (settings []EndpointSetting, ok bool) {
	e, ok := lookupEngine(engineName)
	if !ok {
		return nil, false
	}
	settings = []EndpointSetting{}
	for _, s := range settingsByBlock[e.block] {
		if (s.Applicability == src && !e.source.ok) || (s.Applicability == tgt && !e.target.ok) {
			continue
		}
		settings = append(settings, s.clone())
	}
	return settings, true
}

func (s EndpointSetting) clone() EndpointSetting {
	s.EnumValues = slices.Clone(s.EnumValues)
	if s.IntValueMin != nil {
		s.IntValueMin = i32(*s.IntValueMin)
	}
	if s.IntValueMax != nil {
		s.IntValueMax = i32(*s.IntValueMax)
	}
	return s
}
