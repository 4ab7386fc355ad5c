package catalog

// postgresSettings covers PostgreSQLSettings, used by postgres, aurora-postgresql
// and aurora-postgresql-serverless. Defaults and ranges follow the DMS model and
// user guide.
var postgresSettings = []EndpointSetting{
	{Name: "AfterConnectScript", Type: tString, Applicability: both},
	{Name: "AuthenticationMethod", Type: tEnum, EnumValues: []string{"password", "iam"}, Applicability: both, DefaultValue: "password"},
	{Name: "BabelfishDatabaseName", Type: tString, Applicability: tgt},
	{Name: "CaptureDdls", Type: tBool, Applicability: src, DefaultValue: "true"},
	{Name: "DatabaseMode", Type: tEnum, EnumValues: []string{"default", "babelfish"}, Applicability: tgt, DefaultValue: "default"},
	{Name: "DatabaseName", Type: tString, Applicability: both},
	{Name: "DdlArtifactsSchema", Type: tString, Applicability: src, DefaultValue: "public"},
	{Name: "DisableUnicodeSourceFilter", Type: tBool, Applicability: src, DefaultValue: "false"},
	{Name: "ExecuteTimeout", Type: tInt, Units: "seconds", Applicability: both, IntValueMin: i32(1), DefaultValue: "60"},
	{Name: "FailTasksOnLobTruncation", Type: tBool, Applicability: src, DefaultValue: "false"},
	{Name: "HeartbeatEnable", Type: tBool, Applicability: src, DefaultValue: "false"},
	{Name: "HeartbeatFrequency", Type: tInt, Units: "minutes", Applicability: src, IntValueMin: i32(1), DefaultValue: "5"},
	{Name: "HeartbeatSchema", Type: tString, Applicability: src, DefaultValue: "public"},
	{Name: "MapBooleanAsBoolean", Type: tBool, Applicability: both, DefaultValue: "false"},
	{Name: "MapJsonbAsClob", Type: tBool, Applicability: src, DefaultValue: "false"},
	{Name: "MapLongVarcharAs", Type: tEnum, EnumValues: []string{"wstring", "clob", "nclob"}, Applicability: src, DefaultValue: "wstring"},
	{Name: "MaxFileSize", Type: tInt, Units: "KB", Applicability: tgt, IntValueMin: i32(1), IntValueMax: i32(1048576), DefaultValue: "32768"},
	{Name: "Password", Type: tString, Sensitive: true, Applicability: both},
	{Name: "PluginName", Type: tEnum, EnumValues: []string{"no-preference", "test-decoding", "pglogical"}, Applicability: src, DefaultValue: "pglogical"},
	{Name: "Port", Type: tInt, Applicability: both, IntValueMin: i32(1), IntValueMax: i32(65535), DefaultValue: "5432"},
	{Name: "SecretsManagerAccessRoleArn", Type: tString, Applicability: both},
	{Name: "SecretsManagerSecretId", Type: tString, Applicability: both},
	{Name: "ServerName", Type: tString, Applicability: both},
	{Name: "ServiceAccessRoleArn", Type: tString, Applicability: both},
	{Name: "SlotName", Type: tString, Applicability: src},
	{Name: "TrimSpaceInChar", Type: tBool, Applicability: src, DefaultValue: "true"},
	{Name: "Username", Type: tString, Applicability: both},
}
