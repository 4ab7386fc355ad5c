package catalog

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// modelShape is the part of a botocore shape the checks need.
type modelShape struct {
	Type          string `json:"type"`
	Members       map[string]struct{ Shape, Documentation string }
	Enum          []string `json:"enum"`
	Sensitive     bool     `json:"sensitive"`
	Documentation string   `json:"documentation"`
}

type model struct {
	Shapes map[string]modelShape `json:"shapes"`
}

// Where the DMS service model may be found: the repository's committed copy
// first, then botocore's.
var modelPaths = []string{
	filepath.Join("..", "..", "..", "api", "model", "dms-2016-01-01.json"),
	"/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/botocore/data/dms/2016-01-01/service-2.json.gz",
}

func loadModel(t *testing.T) *model {
	t.Helper()
	return loadModelWhere(t, func(*model) bool { return true })
}

// loadModelWhere returns the first model found that satisfies ok.
func loadModelWhere(t *testing.T, ok func(*model) bool) *model {
	t.Helper()
	for _, p := range modelPaths {
		m, err := readModel(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		if len(m.Shapes) > 0 && ok(m) {
			return m
		}
	}
	t.Skip("no suitable DMS service model found")
	return nil
}

func readModel(path string) (*model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		r = gz
	}
	var m model
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *model) shape(t *testing.T, name string) modelShape {
	t.Helper()
	s, ok := m.Shapes[name]
	if !ok {
		t.Fatalf("model has no shape %s", name)
	}
	return s
}

func TestEnginesHaveRolesAndBlocks(t *testing.T) {
	want := []string{"mysql", "oracle", "postgres", "mariadb", "aurora", "aurora-postgresql", "opensearch",
		"redshift", "s3", "db2", "db2-zos", "azuredb", "sybase", "dynamodb", "mongodb", "kinesis", "kafka",
		"elasticsearch", "docdb", "sqlserver", "neptune", "babelfish", "redshift-serverless", "aurora-serverless",
		"aurora-postgresql-serverless", "gcp-mysql", "azure-sql-managed-instance", "redis", "dms-transfer"}
	got := Engines()
	for _, e := range want {
		if !slices.Contains(got, e) {
			t.Errorf("Engines() lacks %q", e)
		}
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e] {
			t.Errorf("engine %q listed twice", e)
		}
		seen[e] = true
		if !IsEngine(e) {
			t.Errorf("IsEngine(%q) = false", e)
		}
		if src, tgt := Roles(e); !src && !tgt {
			t.Errorf("engine %q supports no role", e)
		}
		if SettingsBlock(e) == "" {
			t.Errorf("engine %q has no settings block", e)
		}
		if DisplayName(e) == "" {
			t.Errorf("engine %q has no display name", e)
		}
	}
	for _, bad := range []string{"", "MYSQL", "Postgres", "documentdb", "nosuch"} {
		if IsEngine(bad) {
			t.Errorf("IsEngine(%q) = true", bad)
		}
		if SettingsBlock(bad) != "" {
			t.Errorf("SettingsBlock(%q) = %q, want empty", bad, SettingsBlock(bad))
		}
	}
	blocks := map[string]string{
		"postgres": "PostgreSQLSettings", "aurora-postgresql": "PostgreSQLSettings",
		"aurora-postgresql-serverless": "PostgreSQLSettings",
		"mysql":                        "MySQLSettings", "mariadb": "MySQLSettings", "aurora": "MySQLSettings",
		"aurora-serverless": "MySQLSettings", "gcp-mysql": "GcpMySQLSettings", "s3": "S3Settings",
		"sqlserver": "MicrosoftSQLServerSettings", "azuredb": "MicrosoftSQLServerSettings",
		"azure-sql-managed-instance": "MicrosoftSQLServerSettings", "babelfish": "MicrosoftSQLServerSettings",
		"oracle": "OracleSettings", "sybase": "SybaseSettings", "db2": "IBMDb2Settings", "db2-zos": "IBMDb2Settings",
		"mongodb": "MongoDbSettings", "docdb": "DocDbSettings", "kinesis": "KinesisSettings",
		"kafka": "KafkaSettings", "elasticsearch": "ElasticsearchSettings", "opensearch": "ElasticsearchSettings",
		"dynamodb": "DynamoDbSettings", "neptune": "NeptuneSettings", "redshift": "RedshiftSettings",
		"redshift-serverless": "RedshiftSettings", "redis": "RedisSettings", "dms-transfer": "DmsTransferSettings",
	}
	for e, b := range blocks {
		if got := SettingsBlock(e); got != b {
			t.Errorf("SettingsBlock(%q) = %q, want %q", e, got, b)
		}
	}
}

func TestEndpointTypesMatchRoles(t *testing.T) {
	newest := versions[len(versions)-1].Version
	type key struct{ engine, role string }
	listed := map[key]bool{}
	for _, et := range EndpointTypes() {
		k := key{et.EngineName, et.EndpointType}
		if listed[k] {
			t.Errorf("%v listed twice", k)
		}
		listed[k] = true
		if et.EndpointType != RoleSource && et.EndpointType != RoleTarget {
			t.Errorf("%s: EndpointType %q", et.EngineName, et.EndpointType)
		}
		if et.EngineDisplayName != DisplayName(et.EngineName) {
			t.Errorf("%s: display name %q != %q", et.EngineName, et.EngineDisplayName, DisplayName(et.EngineName))
		}
		if v := et.ReplicationInstanceEngineMinimumVersion; v != "" {
			if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) || CompareVersions(v, newest) > 0 {
				t.Errorf("%s %s: minimum version %q", et.EngineName, et.EndpointType, v)
			}
		}
		if !SupportsRole(et.EngineName, et.EndpointType) {
			t.Errorf("%s listed as %s but SupportsRole says no", et.EngineName, et.EndpointType)
		}
	}
	for _, e := range Engines() {
		src, tgt := Roles(e)
		if listed[key{e, RoleSource}] != src || listed[key{e, RoleTarget}] != tgt {
			t.Errorf("%s: EndpointTypes (source %v, target %v) disagree with Roles (%v, %v)",
				e, listed[key{e, RoleSource}], listed[key{e, RoleTarget}], src, tgt)
		}
	}
	if SupportsRole("mysql", "SOURCE") {
		t.Error(`SupportsRole("mysql", "SOURCE") = true; roles are lowercase`)
	}
	for _, tgtOnly := range []string{"redshift", "dynamodb", "kinesis", "kafka", "opensearch", "elasticsearch", "neptune", "redis", "babelfish"} {
		if src, tgt := Roles(tgtOnly); src || !tgt {
			t.Errorf("%s should be target only, got source=%v target=%v", tgtOnly, src, tgt)
		}
	}
}

func TestSettingsBlocksExistInModel(t *testing.T) {
	m := loadModel(t)
	endpoint := m.shape(t, "Endpoint")
	create := m.shape(t, "CreateEndpointMessage")
	modify := m.shape(t, "ModifyEndpointMessage")
	for _, b := range SettingsBlocks() {
		for name, s := range map[string]modelShape{"Endpoint": endpoint, "CreateEndpointMessage": create, "ModifyEndpointMessage": modify} {
			mem, ok := s.Members[b]
			if !ok {
				t.Errorf("%s has no member %s", name, b)
				continue
			}
			if mem.Shape != b {
				t.Errorf("%s.%s has shape %s", name, b, mem.Shape)
			}
		}
		block := m.shape(t, b)
		var present []string
		for _, f := range connectionFields {
			if _, ok := block.Members[f]; ok {
				present = append(present, f)
			}
		}
		for _, f := range MirroredConnectionFields(b) {
			if !slices.Contains(present, f) {
				t.Errorf("MirroredConnectionFields(%s) lists %s, which the shape lacks or is not a connection field", b, f)
			}
		}
		if len(present) == len(connectionFields) && !slices.Equal(MirroredConnectionFields(b), connectionFields) {
			t.Errorf("MirroredConnectionFields(%s) = %v, want %v", b, MirroredConnectionFields(b), connectionFields)
		}
	}
	if got := MirroredConnectionFields("S3Settings"); len(got) != 0 {
		t.Errorf("MirroredConnectionFields(S3Settings) = %v", got)
	}
}

// TestEngineListMatchesModelDocs checks that every engine CreateEndpoint's
// documentation names is accepted. It needs the documented model.
func TestEngineListMatchesModelDocs(t *testing.T) {
	engineDoc := func(m *model) string {
		return m.Shapes["CreateEndpointMessage"].Members["EngineName"].Documentation
	}
	m := loadModelWhere(t, func(m *model) bool { return engineDoc(m) != "" })
	doc := engineDoc(m)
	names := regexp.MustCompile(`<code>"?([a-z0-9-]+)"?</code>`).FindAllStringSubmatch(doc, -1)
	if len(names) < 20 {
		t.Fatalf("found only %d engine names in the documentation", len(names))
	}
	for _, n := range names {
		if !IsEngine(n[1]) {
			t.Errorf("model documents engine %q, catalog lacks it", n[1])
		}
	}
}

func TestEndpointSettingsMatchModel(t *testing.T) {
	m := loadModel(t)
	for block, settings := range settingsByBlock {
		shape := m.shape(t, block)
		names := map[string]bool{}
		for _, s := range settings {
			names[s.Name] = true
			mem, ok := shape.Members[s.Name]
			if !ok {
				t.Errorf("%s: setting %s is not a member of the shape", block, s.Name)
				continue
			}
			ms := m.shape(t, mem.Shape)
			switch {
			case len(ms.Enum) > 0:
				if s.Type != tEnum || !slices.Equal(s.EnumValues, ms.Enum) {
					t.Errorf("%s.%s: type %s %v, model enum %v", block, s.Name, s.Type, s.EnumValues, ms.Enum)
				}
			case ms.Type == "boolean":
				if s.Type != tBool {
					t.Errorf("%s.%s: type %s, model boolean", block, s.Name, s.Type)
				}
			case ms.Type == "integer" || ms.Type == "long":
				if s.Type != tInt {
					t.Errorf("%s.%s: type %s, model %s", block, s.Name, s.Type, ms.Type)
				}
			default:
				if s.Type != tString {
					t.Errorf("%s.%s: type %s, model %s", block, s.Name, s.Type, ms.Type)
				}
			}
			if s.Sensitive != ms.Sensitive {
				t.Errorf("%s.%s: Sensitive %v, model %v", block, s.Name, s.Sensitive, ms.Sensitive)
			}
		}
		for member := range shape.Members {
			if !names[member] {
				t.Errorf("%s: member %s has no setting", block, member)
			}
		}
	}
	for _, b := range SettingsBlocks() {
		if _, ok := settingsByBlock[b]; !ok {
			t.Errorf("block %s has no settings catalogue", b)
		}
	}
}

func TestEndpointSettingsCoherent(t *testing.T) {
	for block, settings := range settingsByBlock {
		seen := map[string]bool{}
		for _, s := range settings {
			where := block + "." + s.Name
			if seen[s.Name] {
				t.Errorf("%s listed twice", where)
			}
			seen[s.Name] = true
			switch s.Applicability {
			case src, tgt, both:
			default:
				t.Errorf("%s: applicability %q", where, s.Applicability)
			}
			if (s.Type == tEnum) != (len(s.EnumValues) > 0) {
				t.Errorf("%s: type %s with enum values %v", where, s.Type, s.EnumValues)
			}
			if s.Type != tInt && (s.IntValueMin != nil || s.IntValueMax != nil || s.Units != "") {
				t.Errorf("%s: range or units on a %s setting", where, s.Type)
			}
			if s.IntValueMin != nil && s.IntValueMax != nil && *s.IntValueMin > *s.IntValueMax {
				t.Errorf("%s: min %d > max %d", where, *s.IntValueMin, *s.IntValueMax)
			}
			if s.DefaultValue == "" {
				continue
			}
			switch s.Type {
			case tEnum:
				if !slices.Contains(s.EnumValues, s.DefaultValue) {
					t.Errorf("%s: default %q not among %v", where, s.DefaultValue, s.EnumValues)
				}
			case tBool:
				if s.DefaultValue != "true" && s.DefaultValue != "false" {
					t.Errorf("%s: boolean default %q", where, s.DefaultValue)
				}
			case tInt:
				n, err := strconv.ParseInt(s.DefaultValue, 10, 32)
				if err != nil {
					t.Errorf("%s: integer default %q", where, s.DefaultValue)
				}
				if (s.IntValueMin != nil && int32(n) < *s.IntValueMin) || (s.IntValueMax != nil && int32(n) > *s.IntValueMax) {
					t.Errorf("%s: default %d outside range", where, n)
				}
			}
		}
	}
}

func TestEndpointSettingsPerEngine(t *testing.T) {
	for _, e := range Engines() {
		settings, ok := EndpointSettings(e)
		if !ok || len(settings) == 0 {
			t.Errorf("EndpointSettings(%q) = %d settings, ok %v", e, len(settings), ok)
		}
		srcOK, tgtOK := Roles(e)
		for _, s := range settings {
			if (s.Applicability == src && !srcOK) || (s.Applicability == tgt && !tgtOK) {
				t.Errorf("%s: %s applies to %s, which the engine does not support", e, s.Name, s.Applicability)
			}
		}
	}
	if _, ok := EndpointSettings("nosuch"); ok {
		t.Error(`EndpointSettings("nosuch") ok`)
	}
	// Thorough coverage for the engines the emulator runs.
	for e, names := range map[string][]string{
		"postgres":          {"SlotName", "PluginName", "CaptureDdls", "HeartbeatEnable", "MapBooleanAsBoolean", "MaxFileSize"},
		"aurora-postgresql": {"SlotName", "DdlArtifactsSchema"},
		"mysql":             {"EventsPollInterval", "ServerTimezone", "TargetDbType", "ParallelLoadThreads"},
		"mariadb":           {"AfterConnectScript", "CleanSourceMetadataOnMismatch"},
		"aurora":            {"MaxFileSize"},
		"s3":                {"BucketName", "DataFormat", "CsvDelimiter", "DatePartitionSequence", "CdcPath", "IgnoreHeaderRows"},
	} {
		settings, _ := EndpointSettings(e)
		for _, n := range names {
			if !slices.ContainsFunc(settings, func(s EndpointSetting) bool { return s.Name == n }) {
				t.Errorf("EndpointSettings(%q) lacks %s", e, n)
			}
		}
	}
	// The result is a copy.
	a, _ := EndpointSettings("s3")
	for i := range a {
		a[i].EnumValues = append(a[i].EnumValues[:0:0], "x")
		if a[i].IntValueMin != nil {
			*a[i].IntValueMin = -99
		}
	}
	b, _ := EndpointSettings("s3")
	for _, s := range b {
		if slices.Contains(s.EnumValues, "x") || (s.IntValueMin != nil && *s.IntValueMin == -99) {
			t.Fatalf("EndpointSettings returned shared data: %+v", s)
		}
	}
}

func TestEngineVersions(t *testing.T) {
	vs := EngineVersions()
	defaults := 0
	for i, v := range vs {
		if v.Lifecycle == LifecycleDefault {
			defaults++
			if v.Version != DefaultEngineVersion() {
				t.Errorf("default %s != DefaultEngineVersion() %s", v.Version, DefaultEngineVersion())
			}
		}
		switch v.Lifecycle {
		case LifecycleDefault, LifecycleActive, LifecycleDeprecated:
		default:
			t.Errorf("%s: lifecycle %q", v.Version, v.Lifecycle)
		}
		if v.ReleaseStatus != "prod" && v.ReleaseStatus != "beta" {
			t.Errorf("%s: release status %q", v.Version, v.ReleaseStatus)
		}
		if i > 0 && CompareVersions(vs[i-1].Version, v.Version) >= 0 {
			t.Errorf("versions out of order: %s before %s", vs[i-1].Version, v.Version)
		}
		if v.LaunchDate.IsZero() {
			t.Errorf("%s: no launch date", v.Version)
		}
		if !v.DeprecationDate.IsZero() && !v.DeprecationDate.After(v.LaunchDate) {
			t.Errorf("%s: deprecated before launch", v.Version)
		}
		if !v.ForceUpgradeDate.IsZero() && v.ForceUpgradeDate.Before(v.DeprecationDate) {
			t.Errorf("%s: forced upgrade before deprecation", v.Version)
		}
		if v.Lifecycle == LifecycleDeprecated && v.DeprecationDate.IsZero() {
			t.Errorf("%s: deprecated without a date", v.Version)
		}
		for _, u := range v.AvailableUpgrades {
			if CompareVersions(u, v.Version) <= 0 || !IsOrderableEngineVersion(u) {
				t.Errorf("%s: bad upgrade target %s", v.Version, u)
			}
		}
		if (v.Lifecycle != LifecycleDeprecated) != IsOrderableEngineVersion(v.Version) {
			t.Errorf("%s: orderable disagrees with lifecycle", v.Version)
		}
	}
	if defaults != 1 {
		t.Errorf("%d default versions, want 1", defaults)
	}
	for _, want := range []string{"3.4.7", "3.5.1", "3.5.2", "3.5.3", "3.5.4", "3.6.1"} {
		if _, ok := LookupEngineVersion(want); !ok {
			t.Errorf("version %s missing", want)
		}
	}
	vs[0].AvailableUpgrades[0] = "x"
	if EngineVersions()[0].AvailableUpgrades[0] == "x" {
		t.Error("EngineVersions returned shared data")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"3.5.4", "3.5.4", 0}, {"3.5.4", "3.6.1", -1}, {"3.10.0", "3.9.9", 1}, {"3.5", "3.5.0", 0}, {"3.4.7", "3.5", -1}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestOrderableInstances(t *testing.T) {
	const region = "eu-west-1"
	rows := OrderableInstances(region)
	if want := len(orderableVersions()) * len(instanceClasses); len(rows) != want {
		t.Fatalf("%d orderable rows, want %d", len(rows), want)
	}
	classes := map[string]bool{}
	for _, o := range rows {
		classes[o.ReplicationInstanceClass] = true
		if !IsInstanceClass(o.ReplicationInstanceClass) {
			t.Errorf("unknown class %s", o.ReplicationInstanceClass)
		}
		if !IsOrderableEngineVersion(o.EngineVersion) {
			t.Errorf("%s offered with version %s", o.ReplicationInstanceClass, o.EngineVersion)
		}
		if o.StorageType != "gp2" || o.ReleaseStatus != "prod" {
			t.Errorf("%+v", o)
		}
		if o.MinAllocatedStorage > o.DefaultAllocatedStorage || o.DefaultAllocatedStorage > o.MaxAllocatedStorage ||
			o.IncludedAllocatedStorage > o.MaxAllocatedStorage || o.MinAllocatedStorage <= 0 {
			t.Errorf("%s: incoherent storage %+v", o.ReplicationInstanceClass, o)
		}
		if o.DefaultAllocatedStorage != DefaultAllocatedStorage(o.ReplicationInstanceClass) {
			t.Errorf("%s: default storage %d", o.ReplicationInstanceClass, o.DefaultAllocatedStorage)
		}
		if len(o.AvailabilityZones) < 2 {
			t.Errorf("%s: zones %v", o.ReplicationInstanceClass, o.AvailabilityZones)
		}
		for _, z := range o.AvailabilityZones {
			if !strings.HasPrefix(z, region) || len(z) != len(region)+1 {
				t.Errorf("zone %q for region %s", z, region)
			}
		}
	}
	for _, c := range []string{"dms.t3.micro", "dms.t3.small", "dms.t3.medium", "dms.t3.large", "dms.c5.large", "dms.r5.xlarge"} {
		if !classes[c] {
			t.Errorf("class %s not orderable", c)
		}
	}
	for _, c := range InstanceClasses() {
		vcpu, mem, ok := InstanceClassResources(c)
		if !ok || vcpu <= 0 || mem <= 0 {
			t.Errorf("InstanceClassResources(%s) = %d, %v, %v", c, vcpu, mem, ok)
		}
	}
	if IsInstanceClass("dms.t3.huge") || IsInstanceClass("t3.micro") {
		t.Error("IsInstanceClass accepts a bogus class")
	}
	if _, _, ok := InstanceClassResources("nope"); ok {
		t.Error("InstanceClassResources(nope) ok")
	}
	rows[0].AvailabilityZones[0] = "x"
	if OrderableInstances(region)[0].AvailabilityZones[0] == "x" {
		t.Error("OrderableInstances returned shared data")
	}
	if z := AvailabilityZones(""); z[0] != "us-east-1a" {
		t.Errorf("AvailabilityZones(\"\") = %v", z)
	}
}

func TestEvents(t *testing.T) {
	groups := EventCategories()
	cats := map[string][]string{}
	for _, g := range groups {
		cats[g.SourceType] = g.EventCategories
		for _, c := range g.EventCategories {
			if c != strings.ToLower(c) {
				t.Errorf("category %q is not lowercase", c)
			}
		}
	}
	if len(cats[SourceReplicationInstance]) == 0 || len(cats[SourceReplicationTask]) == 0 {
		t.Fatalf("categories: %v", cats)
	}
	idRE := regexp.MustCompile(`^DMS-EVENT-\d{4}$`)
	seen := map[string]bool{}
	for _, e := range Events() {
		if !idRE.MatchString(e.ID) || seen[e.ID] {
			t.Errorf("bad or duplicate id %q", e.ID)
		}
		seen[e.ID] = true
		if !slices.Contains(cats[e.SourceType], e.Category) {
			t.Errorf("%s: category %q not listed for %s", e.ID, e.Category, e.SourceType)
		}
		if e.Message == "" {
			t.Errorf("%s: no message", e.ID)
		}
		if !IsEventCategory(e.SourceType, e.Category) || !IsEventCategory("", e.Category) {
			t.Errorf("%s: IsEventCategory disagrees", e.ID)
		}
	}
	for id, want := range map[string]string{
		"DMS-EVENT-0067": SourceReplicationInstance, "DMS-EVENT-0005": SourceReplicationInstance,
		"DMS-EVENT-0066": SourceReplicationInstance, "DMS-EVENT-0003": SourceReplicationInstance,
		"DMS-EVENT-0012": SourceReplicationInstance, "DMS-EVENT-0014": SourceReplicationInstance,
		"DMS-EVENT-0018": SourceReplicationInstance, "DMS-EVENT-0017": SourceReplicationInstance,
		"DMS-EVENT-0074": SourceReplicationTask, "DMS-EVENT-0069": SourceReplicationTask,
		"DMS-EVENT-0079": SourceReplicationTask, "DMS-EVENT-0078": SourceReplicationTask,
		"DMS-EVENT-0080": SourceReplicationTask, "DMS-EVENT-0073": SourceReplicationTask,
		"DMS-EVENT-0081": SourceReplicationTask,
	} {
		e, ok := Event(id)
		if !ok || e.SourceType != want {
			t.Errorf("Event(%s) = %+v, %v", id, e, ok)
		}
	}
	if _, ok := Event("DMS-EVENT-9999"); ok {
		t.Error("Event(DMS-EVENT-9999) ok")
	}
	if IsEventCategory(SourceReplicationTask, CategoryLowStorage) {
		t.Error("low storage accepted for tasks")
	}
}

func TestAccountQuotas(t *testing.T) {
	want := map[string]int64{
		"ReplicationInstances": 60, "AllocatedStorage": 30000, "Endpoints": 1000, "ReplicationTasks": 600,
		"ReplicationSubnetGroups": 60, "EventSubscriptions": 60, "Certificates": 100, "EndpointsPerInstance": 100,
		"SubnetsPerReplicationSubnetGroup": 60,
	}
	got := AccountQuotas()
	if len(got) != len(want) {
		t.Errorf("%d quotas, want %d", len(got), len(want))
	}
	for _, q := range got {
		if want[q.Name] != q.Max {
			t.Errorf("quota %s = %d, want %d", q.Name, q.Max, want[q.Name])
		}
		if m, ok := QuotaMax(q.Name); !ok || m != q.Max {
			t.Errorf("QuotaMax(%s) = %d, %v", q.Name, m, ok)
		}
	}
}
