package catalog

// mysqlSettings covers MySQLSettings, used by mysql, mariadb, aurora and
// aurora-serverless. Defaults and ranges follow the DMS model and user guide.
var mysqlSettings = []EndpointSetting{
	{Name: "AfterConnectScript", Type: tString, Applicability: both},
	{Name: "AuthenticationMethod", Type: tEnum, EnumValues: []string{"password", "iam"}, Applicability: both, DefaultValue: "password"},
	{Name: "CleanSourceMetadataOnMismatch", Type: tBool, Applicability: src, DefaultValue: "false"},
	{Name: "DatabaseName", Type: tString, Applicability: both},
	{Name: "EventsPollInterval", Type: tInt, Units: "seconds", Applicability: src, IntValueMin: i32(1), DefaultValue: "5"},
	{Name: "ExecuteTimeout", Type: tInt, Units: "seconds", Applicability: src, IntValueMin: i32(1)},
	{Name: "MaxFileSize", Type: tInt, Units: "KB", Applicability: tgt, IntValueMin: i32(1), IntValueMax: i32(1048576), DefaultValue: "32768"},
	{Name: "ParallelLoadThreads", Type: tInt, Applicability: tgt, IntValueMin: i32(1), IntValueMax: i32(5), DefaultValue: "1"},
	{Name: "Password", Type: tString, Sensitive: true, Applicability: both},
	{Name: "Port", Type: tInt, Applicability: both, IntValueMin: i32(1), IntValueMax: i32(65535), DefaultValue: "3306"},
	{Name: "SecretsManagerAccessRoleArn", Type: tString, Applicability: both},
	{Name: "SecretsManagerSecretId", Type: tString, Applicability: both},
	{Name: "ServerName", Type: tString, Applicability: both},
	{Name: "ServerTimezone", Type: tString, Applicability: src},
	{Name: "ServiceAccessRoleArn", Type: tString, Applicability: both},
	{Name: "TargetDbType", Type: tEnum, EnumValues: []string{"specific-database", "multiple-databases"}, Applicability: tgt, DefaultValue: "multiple-databases"},
	{Name: "Username", Type: tString, Applicability: both},
}

// gcpMySQLSettings covers GcpMySQLSettings, used by gcp-mysql (a source).
var gcpMySQLSettings = []EndpointSetting{
	{Name: "AfterConnectScript", Type: tString, Applicability: src},
	{Name: "CleanSourceMetadataOnMismatch", Type: tBool, Applicability: src, DefaultValue: "false"},
	{Name: "DatabaseName", Type: tString, Applicability: src},
	{Name: "EventsPollInterval", Type: tInt, Units: "seconds", Applicability: src, IntValueMin: i32(1), DefaultValue: "5"},
	{Name: "MaxFileSize", Type: tInt, Units: "KB", Applicability: tgt, IntValueMin: i32(1), IntValueMax: i32(1048576), DefaultValue: "32768"},
	{Name: "ParallelLoadThreads", Type: tInt, Applicability: tgt, IntValueMin: i32(1), IntValueMax: i32(5), DefaultValue: "1"},
	{Name: "Password", Type: tString, Sensitive: true, Applicability: src},
	{Name: "Port", Type: tInt, Applicability: src, IntValueMin: i32(1), IntValueMax: i32(65535), DefaultValue: "3306"},
	{Name: "SecretsManagerAccessRoleArn", Type: tString, Applicability: src},
	{Name: "SecretsManagerSecretId", Type: tString, Applicability: src},
	{Name: "ServerName", Type: tString, Applicability: src},
	{Name: "ServerTimezone", Type: tString, Applicability: src},
	{Name: "TargetDbType", Type: tEnum, EnumValues: []string{"specific-database", "multiple-databases"}, Applicability: tgt, DefaultValue: "multiple-databases"},
	{Name: "Username", Type: tString, Applicability: src},
}
