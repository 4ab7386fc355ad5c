// Package catalog holds the static data DMS answers with: endpoint engines and
// their settings blocks, the endpoint-settings catalogue, replication engine
// versions, orderable instance classes, event categories and messages, and
// account quotas.
//
// Everything here is plain Go literals. Functions return fresh copies, so a
// caller may modify what it gets without affecting later calls.
package catalog

import "slices"

// Endpoint roles as DescribeEndpointTypes spells them.
const (
	RoleSource = "source"
	RoleTarget = "target"
)

// engine describes one EngineName that CreateEndpoint accepts.
type engine struct {
	name    string
	display string // EngineDisplayName
	block   string // endpoint member holding the engine's settings
	source  role
	target  role
}

// role says whether an engine can be used in one endpoint role.
type role struct {
	ok         bool
	cdc        bool   // SupportsCDC
	minVersion string // ReplicationInstanceEngineMinimumVersion; "" for engines older than 3.1.1
}

var (
	no        = role{}
	yes       = role{ok: true, cdc: true}
	fullLoad  = role{ok: true}
	since     = func(v string) role { return role{ok: true, cdc: true, minVersion: v} }
	loadSince = func(v string) role { return role{ok: true, minVersion: v} }
)

// engines is ordered as CreateEndpoint's documentation lists EngineName,
// followed by engines only the user guide names.
var engines = []engine{
	{"mysql", "MySQL", "MySQLSettings", yes, yes},
	{"oracle", "Oracle", "OracleSettings", yes, yes},
	{"postgres", "PostgreSQL", "PostgreSQLSettings", yes, yes},
	{"mariadb", "MariaDB", "MySQLSettings", yes, yes},
	{"aurora", "Amazon Aurora MySQL", "MySQLSettings", yes, yes},
	{"aurora-postgresql", "Amazon Aurora PostgreSQL", "PostgreSQLSettings", yes, yes},
	{"opensearch", "Amazon OpenSearch Service", "ElasticsearchSettings", no, since("3.4.7")},
	{"redshift", "Amazon Redshift", "RedshiftSettings", no, yes},
	{"s3", "Amazon S3", "S3Settings", yes, yes},
	{"db2", "IBM Db2 for Linux, UNIX and Windows", "IBMDb2Settings", since("3.1.1"), since("3.5.3")},
	{"db2-zos", "IBM Db2 for z/OS", "IBMDb2Settings", since("3.4.7"), no},
	{"azuredb", "Microsoft Azure SQL Database", "MicrosoftSQLServerSettings", fullLoad, no},
	{"sybase", "SAP Sybase ASE", "SybaseSettings", yes, yes},
	{"dynamodb", "Amazon DynamoDB", "DynamoDbSettings", no, yes},
	{"mongodb", "MongoDB", "MongoDbSettings", yes, no},
	{"kinesis", "Amazon Kinesis", "KinesisSettings", no, since("3.1.2")},
	{"kafka", "Kafka", "KafkaSettings", no, since("3.3.1")},
	{"elasticsearch", "Elasticsearch", "ElasticsearchSettings", no, since("3.1.2")},
	{"docdb", "Amazon DocumentDB", "DocDbSettings", since("3.1.3"), since("3.1.3")},
	{"sqlserver", "Microsoft SQL Server", "MicrosoftSQLServerSettings", yes, yes},
	{"neptune", "Amazon Neptune", "NeptuneSettings", no, since("3.3.0")},
	{"babelfish", "Babelfish for Aurora PostgreSQL", "MicrosoftSQLServerSettings", no, since("3.4.7")},
	{"redshift-serverless", "Amazon Redshift Serverless", "RedshiftSettings", no, since("3.5.0")},
	{"aurora-serverless", "Amazon Aurora MySQL Serverless", "MySQLSettings", no, yes},
	{"aurora-postgresql-serverless", "Amazon Aurora PostgreSQL Serverless", "PostgreSQLSettings", no, yes},
	{"gcp-mysql", "Google Cloud SQL for MySQL", "GcpMySQLSettings", since("3.4.6"), no},
	{"azure-sql-managed-instance", "Microsoft Azure SQL Managed Instance", "MicrosoftSQLServerSettings", since("3.5.0"), no},
	{"redis", "Redis", "RedisSettings", no, since("3.5.0")},
	{"dms-transfer", "AWS DMS Transfer", "DmsTransferSettings", loadSince("3.1.1"), no},
	{"timestream", "Amazon Timestream", "TimestreamSettings", no, since("3.5.1")},
}

func lookupEngine(name string) (engine, bool) {
	for _, e := range engines {
		if e.name == name {
			return e, true
		}
	}
	return engine{}, false
}

// Engines lists every EngineName CreateEndpoint accepts.
func Engines() []string {
	out := make([]string, len(engines))
	for i, e := range engines {
		out[i] = e.name
	}
	return out
}

// IsEngine reports whether CreateEndpoint accepts name as an EngineName.
// Engine names are case-sensitive, as in DMS.
func IsEngine(name string) bool {
	_, ok := lookupEngine(name)
	return ok
}

// DisplayName returns the EngineDisplayName DMS shows for an engine, or "".
func DisplayName(engineName string) string {
	e, _ := lookupEngine(engineName)
	return e.display
}

// SettingsBlock returns the name of the endpoint member that holds the
// engine's settings, such as "PostgreSQLSettings", or "" for an unknown engine.
func SettingsBlock(engineName string) string {
	e, _ := lookupEngine(engineName)
	return e.block
}

// SettingsBlocks lists every settings member name used by some engine.
func SettingsBlocks() []string {
	var out []string
	for _, e := range engines {
		if !slices.Contains(out, e.block) {
			out = append(out, e.block)
		}
	}
	return out
}

// Roles reports which endpoint types an engine supports.
func Roles(engineName string) (source, target bool) {
	e, _ := lookupEngine(engineName)
	return e.source.ok, e.target.ok
}

// SupportsRole reports whether engineName can be used as an endpoint of type
// endpointType ("source" or "target", lowercase as CreateEndpoint takes it).
func SupportsRole(engineName, endpointType string) bool {
	src, tgt := Roles(engineName)
	switch endpointType {
	case RoleSource:
		return src
	case RoleTarget:
		return tgt
	}
	return false
}

// EndpointType is one row of DescribeEndpointTypes.
type EndpointType struct {
	EngineName                              string
	EngineDisplayName                       string
	EndpointType                            string // "source" or "target"
	SupportsCDC                             bool
	ReplicationInstanceEngineMinimumVersion string
}

// EndpointTypes returns one entry per engine and supported role, sources
// before targets for each engine.
func EndpointTypes() []EndpointType {
	var out []EndpointType
	for _, e := range engines {
		for _, r := range []struct {
			kind string
			role role
		}{{RoleSource, e.source}, {RoleTarget, e.target}} {
			if !r.role.ok {
				continue
			}
			out = append(out, EndpointType{
				EngineName:                              e.name,
				EngineDisplayName:                       e.display,
				EndpointType:                            r.kind,
				SupportsCDC:                             r.role.cdc,
				ReplicationInstanceEngineMinimumVersion: r.role.minVersion,
			})
		}
	}
	return out
}

// connectionFields are the top-level endpoint members DMS copies into an
// engine's settings block in responses, in the order they are listed.
var connectionFields = []string{"ServerName", "Port", "DatabaseName", "Username"}

// mirrored lists, per settings block, which connection fields the block has.
// Blocks not listed (S3, Kinesis, Kafka, DynamoDB, ...) carry none.
var mirrored = map[string][]string{
	"MySQLSettings":              connectionFields,
	"GcpMySQLSettings":           connectionFields,
	"PostgreSQLSettings":         connectionFields,
	"MicrosoftSQLServerSettings": connectionFields,
	"OracleSettings":             connectionFields,
	"SybaseSettings":             connectionFields,
	"IBMDb2Settings":             connectionFields,
	"MongoDbSettings":            connectionFields,
	"DocDbSettings":              connectionFields,
	"RedshiftSettings":           connectionFields,
	"RedisSettings":              {"ServerName", "Port"},
}

// MirroredConnectionFields returns, for a settings block, the top-level
// endpoint fields (ServerName, Port, DatabaseName, Username) that DMS mirrors
// into that block in responses. Each name is also the member's name in the block.
func MirroredConnectionFields(block string) []string {
	return slices.Clone(mirrored[block])
}
