package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/godwit-dms/godwit/internal/testenv"
)

type endpointArgs struct {
	id, engine, typ, host, user, password, db, sslMode, certARN string
	eca                                                         string // extra connection attributes
	port                                                        int
	s3                                                          *types.S3Settings
}

func createEndpoint(t *testing.T, c *dmssdk.Client, a endpointArgs) *types.Endpoint {
	t.Helper()
	in := &dmssdk.CreateEndpointInput{
		EndpointIdentifier: aws.String(a.id), EngineName: aws.String(a.engine),
		EndpointType: types.ReplicationEndpointTypeValue(a.typ),
	}
	if a.host != "" {
		in.ServerName, in.Port, in.Username, in.Password = aws.String(a.host), aws.Int32(int32(a.port)), aws.String(a.user), aws.String(a.password)
	}
	if a.db != "" {
		in.DatabaseName = aws.String(a.db)
	}
	if a.sslMode != "" {
		in.SslMode = types.DmsSslModeValue(a.sslMode)
	}
	if a.certARN != "" {
		in.CertificateArn = aws.String(a.certARN)
	}
	in.S3Settings = a.s3
	if a.eca != "" {
		in.ExtraConnectionAttributes = aws.String(a.eca)
	}
	out, err := c.CreateEndpoint(ctxT(t), in)
	if err != nil {
		t.Fatalf("create endpoint %s: %v", a.id, err)
	}
	return out.Endpoint
}

func TestConnectionsPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	tlsDB := pg.NewDatabase(t, testenv.RequireTLS())
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "pg-tests")
	riARN := aws.ToString(ri.ReplicationInstanceArn)

	cert, err := c.ImportCertificate(ctx, &dmssdk.ImportCertificateInput{CertificateIdentifier: aws.String("pg-ca"), CertificatePem: aws.String(string(pg.CACertPEM))})
	if err != nil {
		t.Fatal(err)
	}
	certARN := aws.ToString(cert.Certificate.CertificateArn)
	if cert.Certificate.ValidToDate == nil || aws.ToString(cert.Certificate.SigningAlgorithm) == "" {
		t.Fatalf("certificate metadata: %+v", cert.Certificate)
	}

	base := endpointArgs{engine: "postgres", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: db}
	cases := []struct {
		name    string
		mut     func(a *endpointArgs)
		ok      bool
		message []string
	}{
		{"source-ok", func(a *endpointArgs) { a.typ = "source" }, true, nil},
		{"target-ok", func(a *endpointArgs) { a.typ = "target" }, true, nil},
		{"ignored-setting", func(a *endpointArgs) { a.typ = "target"; a.eca = "executeTimeout=30" }, true,
			[]string{"with warnings", "PostgreSQLSettings.ExecuteTimeout has no effect"}},
		{"verify-full-ok", func(a *endpointArgs) {
			a.typ = "source"
			a.sslMode = "verify-full"
			a.certARN = certARN
			a.host = "localhost"
		}, true, nil},
		{"wrong-password", func(a *endpointArgs) { a.typ = "source"; a.password = "Wrong-Pa55word-x" }, false, []string{"authentication", pg.User}},
		{"closed-port", func(a *endpointArgs) { a.typ = "source"; a.port = testenv.ClosedPort(t) }, false, []string{"refused"}},
		{"missing-database", func(a *endpointArgs) { a.typ = "source"; a.db = "no_such_db" }, false, []string{"no_such_db"}},
		{"tls-required", func(a *endpointArgs) { a.typ = "source"; a.db = tlsDB; a.sslMode = "none" }, false, []string{"SslMode"}},
		{"no-such-host", func(a *endpointArgs) { a.typ = "source"; a.host = "no-such-host.invalid" }, false, []string{"no-such-host.invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			a.id = "pg-" + tc.name
			tc.mut(&a)
			ep := createEndpoint(t, c, a)
			conn := testConnection(t, ctx, c, riARN, aws.ToString(ep.EndpointArn))
			status, msg := aws.ToString(conn.Status), aws.ToString(conn.LastFailureMessage)
			t.Logf("%s: %s", status, msg)
			if tc.ok && status != "successful" {
				t.Fatalf("status %s: %s", status, msg)
			}
			if !tc.ok && status != "failed" {
				t.Fatalf("status %s, want failed", status)
			}
			for _, p := range tc.message {
				if !strings.Contains(msg, p) {
					t.Fatalf("message %q does not mention %q", msg, p)
				}
			}
			if strings.Contains(msg, a.password) {
				t.Fatalf("message leaks the password: %q", msg)
			}
		})
	}
	// No response and no log line carries a password.
	for _, secret := range []string{pg.Password, "Wrong-Pa55word-x"} {
		if strings.Contains(s.Bodies.String(), secret) {
			t.Fatal("a response body contains a password")
		}
		if strings.Contains(s.Logs.String(), secret) {
			t.Fatal("a log line contains a password")
		}
		raw, err := os.ReadFile(filepath.Join(s.DataDir, "state.db"))
		if err == nil && strings.Contains(string(raw), secret) {
			t.Fatal("the state store holds a password in clear")
		}
	}
}

func TestConnectionsMariaDB(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, "", "CREATE USER 'tlsuser'@'127.0.0.1' IDENTIFIED BY 'Tls-Pa55' REQUIRE SSL",
		fmt.Sprintf("GRANT ALL ON `%s`.* TO 'tlsuser'@'127.0.0.1'", db))
	t.Cleanup(func() { my.Exec(t, "", "DROP USER IF EXISTS 'tlsuser'@'127.0.0.1'") })
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	riARN := aws.ToString(createInstance(t, ctx, c, "maria-tests").ReplicationInstanceArn)

	base := endpointArgs{engine: "mariadb", host: my.Host, port: my.Port, user: my.User, password: my.Password, db: db}
	cases := []struct {
		name    string
		mut     func(a *endpointArgs)
		ok      bool
		message []string
	}{
		{"source-ok", func(a *endpointArgs) { a.typ = "source" }, true, nil},
		{"target-ok", func(a *endpointArgs) { a.typ = "target"; a.engine = "mysql" }, true, nil},
		{"wrong-password", func(a *endpointArgs) { a.typ = "source"; a.password = "Wrong-Pa55word-y" }, false, []string{"authentication", my.User}},
		{"closed-port", func(a *endpointArgs) { a.typ = "source"; a.port = testenv.ClosedPort(t) }, false, []string{"refused"}},
		{"missing-database", func(a *endpointArgs) { a.typ = "source"; a.db = "no_such_db" }, false, []string{"no_such_db"}},
		{"tls-required", func(a *endpointArgs) {
			a.typ = "source"
			a.user = "tlsuser"
			a.password = "Tls-Pa55"
			a.sslMode = "none"
		}, false, []string{"SslMode"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			a.id = "my-" + tc.name
			tc.mut(&a)
			ep := createEndpoint(t, c, a)
			conn := testConnection(t, ctx, c, riARN, aws.ToString(ep.EndpointArn))
			status, msg := aws.ToString(conn.Status), aws.ToString(conn.LastFailureMessage)
			t.Logf("%s: %s", status, msg)
			if tc.ok != (status == "successful") {
				t.Fatalf("status %s: %s", status, msg)
			}
			for _, p := range tc.message {
				if !strings.Contains(msg, p) {
					t.Fatalf("message %q does not mention %q", msg, p)
				}
			}
		})
	}
	if strings.Contains(s.Bodies.String(), my.Password) || strings.Contains(s.Logs.String(), my.Password) {
		t.Fatal("a response or log line contains the password")
	}
}

func TestConnectionRules(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	riARN := aws.ToString(createInstance(t, ctx, c, "rules").ReplicationInstanceArn)
	ep := createEndpoint(t, c, endpointArgs{id: "src", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: db})
	epARN := aws.ToString(ep.EndpointArn)

	// Endpoint shape: type upper-case, connection fields mirrored, no password.
	if ep.EndpointType != "SOURCE" || ep.PostgreSQLSettings == nil || aws.ToString(ep.PostgreSQLSettings.ServerName) != pg.Host ||
		aws.ToString(ep.PostgreSQLSettings.DatabaseName) != db || ep.PostgreSQLSettings.Password != nil {
		t.Fatalf("endpoint shape: type %s settings %+v", ep.EndpointType, ep.PostgreSQLSettings)
	}
	_, err := c.CreateEndpoint(ctx, &dmssdk.CreateEndpointInput{EndpointIdentifier: aws.String("src"), EngineName: aws.String("postgres"),
		EndpointType: "source", ServerName: aws.String("h"), Port: aws.Int32(5432), Username: aws.String("u"), Password: aws.String("p"), DatabaseName: aws.String("d")})
	wantFault(t, err, "ResourceAlreadyExistsFault")
	_, err = c.CreateEndpoint(ctx, &dmssdk.CreateEndpointInput{EndpointIdentifier: aws.String("up"), EngineName: aws.String("postgres"), EndpointType: "SOURCE"})
	wantFault(t, err, "InvalidParameterValueException", "EndpointType")
	_, err = c.CreateEndpoint(ctx, &dmssdk.CreateEndpointInput{EndpointIdentifier: aws.String("nopw"), EngineName: aws.String("mysql"), EndpointType: "source",
		ServerName: aws.String("h"), Port: aws.Int32(3306), Username: aws.String("u")})
	wantFault(t, err, "InvalidParameterValueException", "Password")
	_, err = c.CreateEndpoint(ctx, &dmssdk.CreateEndpointInput{EndpointIdentifier: aws.String("bad-engine"), EngineName: aws.String("cobol"), EndpointType: "source"})
	wantFault(t, err, "InvalidParameterValueException", "cobol")

	// Unknown ARNs.
	_, err = c.TestConnection(ctx, &dmssdk.TestConnectionInput{ReplicationInstanceArn: aws.String("arn:aws:dms:us-east-1:000000000000:rep:NOPE"), EndpointArn: aws.String(epARN)})
	wantFault(t, err, "ResourceNotFoundFault")
	_, err = c.TestConnection(ctx, &dmssdk.TestConnectionInput{ReplicationInstanceArn: aws.String(riARN), EndpointArn: aws.String("arn:aws:dms:us-east-1:000000000000:endpoint:NOPE")})
	wantFault(t, err, "ResourceNotFoundFault")

	// A second test while one runs is refused. A listener that accepts and
	// never answers keeps the first test running until we let it go.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			cn, err := hang.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, cn)
			heldMu.Unlock()
		}
	}()
	slow := createEndpoint(t, c, endpointArgs{id: "slow", engine: "postgres", typ: "source", host: "127.0.0.1",
		port: hang.Addr().(*net.TCPAddr).Port, user: "u", password: "p", db: "d"})
	first, err := c.TestConnection(ctx, &dmssdk.TestConnectionInput{ReplicationInstanceArn: aws.String(riARN), EndpointArn: slow.EndpointArn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(first.Connection.EndpointIdentifier) != "slow" || aws.ToString(first.Connection.ReplicationInstanceIdentifier) != "rules" {
		t.Fatalf("connection: %+v", first.Connection)
	}
	_, err = c.TestConnection(ctx, &dmssdk.TestConnectionInput{ReplicationInstanceArn: aws.String(riARN), EndpointArn: slow.EndpointArn})
	wantFault(t, err, "InvalidResourceStateFault", "already being tested")
	hang.Close()
	heldMu.Lock()
	for _, cn := range held {
		cn.Close()
	}
	heldMu.Unlock()
	if st := aws.ToString(waitConnection(t, ctx, c, riARN, aws.ToString(slow.EndpointArn)).Status); st != "failed" {
		t.Fatalf("status of the interrupted test: %s", st)
	}
	if st := aws.ToString(testConnection(t, ctx, c, riARN, epARN).Status); st != "successful" {
		t.Fatalf("status %s", st)
	}

	// Engines Godwit cannot reach fail with a plain message, never a fake success.
	ora, err := c.CreateEndpoint(ctx, &dmssdk.CreateEndpointInput{EndpointIdentifier: aws.String("ora"), EngineName: aws.String("oracle"), EndpointType: "source",
		ServerName: aws.String("127.0.0.1"), Port: aws.Int32(1521), Username: aws.String("u"), Password: aws.String("p"), DatabaseName: aws.String("ORCL")})
	if err != nil {
		t.Fatal(err)
	}
	conn := testConnection(t, ctx, c, riARN, aws.ToString(ora.Endpoint.EndpointArn))
	if aws.ToString(conn.Status) != "failed" || !strings.Contains(aws.ToString(conn.LastFailureMessage), "not supported") {
		t.Fatalf("oracle test: %s %s", aws.ToString(conn.Status), aws.ToString(conn.LastFailureMessage))
	}

	// Deleting the endpoint removes its connections.
	_, err = c.DeleteEndpoint(ctx, &dmssdk.DeleteEndpointInput{EndpointArn: aws.String(epARN)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeConnections(ctx, &dmssdk.DescribeConnectionsInput{Filters: []types.Filter{{Name: aws.String("endpoint-arn"), Values: []string{epARN}}}})
	wantFault(t, err, "ResourceNotFoundFault")
	_, err = c.DeleteConnection(ctx, &dmssdk.DeleteConnectionInput{ReplicationInstanceArn: aws.String(riARN), EndpointArn: aws.String(epARN)})
	wantFault(t, err, "ResourceNotFoundFault")
	del, err := c.DeleteConnection(ctx, &dmssdk.DeleteConnectionInput{ReplicationInstanceArn: aws.String(riARN), EndpointArn: ora.Endpoint.EndpointArn})
	if err != nil || aws.ToString(del.Connection.Status) != "deleting" {
		t.Fatalf("delete connection: %v", err)
	}
}

func TestConnectionInstanceNotAvailable(t *testing.T) {
	s := startServer(t, withoutEngine())
	c := s.client(t)
	ctx := ctxT(t)
	out, err := c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{ReplicationInstanceIdentifier: aws.String("still-creating"), ReplicationInstanceClass: aws.String("dms.t3.micro")})
	if err != nil {
		t.Fatal(err)
	}
	ep := createEndpoint(t, c, endpointArgs{id: "e", engine: "postgres", typ: "source", host: "127.0.0.1", port: 5432, user: "u", password: "p", db: "d"})
	_, err = c.TestConnection(ctx, &dmssdk.TestConnectionInput{ReplicationInstanceArn: out.ReplicationInstance.ReplicationInstanceArn, EndpointArn: ep.EndpointArn})
	wantFault(t, err, "InvalidResourceStateFault", "creating")
}

func TestConnectionS3Local(t *testing.T) {
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	riARN := aws.ToString(createInstance(t, ctx, c, "s3-tests").ReplicationInstanceArn)
	ep := createEndpoint(t, c, endpointArgs{id: "bucket", engine: "s3", typ: "target",
		s3: &types.S3Settings{BucketName: aws.String("landing"), BucketFolder: aws.String("raw"), ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms")}})
	conn := testConnection(t, ctx, c, riARN, aws.ToString(ep.EndpointArn))
	if aws.ToString(conn.Status) != "successful" {
		t.Fatalf("s3 local: %s", aws.ToString(conn.LastFailureMessage))
	}
	if st, err := os.Stat(filepath.Join(s.DataDir, "buckets", "landing")); err != nil || !st.IsDir() {
		t.Fatalf("bucket folder not created: %v", err)
	}

	// Settings that cannot work fail the test with what is wrong.
	for _, tc := range []struct {
		id   string
		s3   types.S3Settings
		want string
	}{
		{"bad-zone", types.S3Settings{DatePartitionEnabled: aws.Bool(true), DatePartitionTimezone: aws.String("Mars/Olympus")},
			`Invalid endpoint configuration: DatePartitionTimezone "Mars/Olympus" is not a time zone name`},
		{"no-cdc-path", types.S3Settings{PreserveTransactions: aws.Bool(true)},
			"Invalid endpoint configuration: PreserveTransactions is true but CdcPath is not set"},
	} {
		tc.s3.BucketName, tc.s3.ServiceAccessRoleArn = aws.String("landing"), aws.String("arn:aws:iam::000000000000:role/dms")
		ep := createEndpoint(t, c, endpointArgs{id: tc.id, engine: "s3", typ: "target", s3: &tc.s3})
		conn := testConnection(t, ctx, c, riARN, aws.ToString(ep.EndpointArn))
		if msg := aws.ToString(conn.LastFailureMessage); aws.ToString(conn.Status) != "failed" || !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%s: status %s, message %q; want failed, %q", tc.id, aws.ToString(conn.Status), msg, tc.want)
		}
	}
}

// A source user without the REPLICATION attribute can still be tested: the
// connection succeeds and the message says what CDC would need.
func TestConnectionCDCAdvice(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "DROP ROLE IF EXISTS plainuser", "CREATE ROLE plainuser LOGIN PASSWORD 'Plain-Pa55' NOREPLICATION",
		"CREATE TABLE t (id int primary key)", "GRANT SELECT ON t TO plainuser")
	t.Cleanup(func() { pg.Exec(t, db, "DROP OWNED BY plainuser", "DROP ROLE IF EXISTS plainuser") })
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	riARN := aws.ToString(createInstance(t, ctx, c, "advice").ReplicationInstanceArn)
	ep := createEndpoint(t, c, endpointArgs{id: "plain", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: "plainuser", password: "Plain-Pa55", db: db})
	conn := testConnection(t, ctx, c, riARN, aws.ToString(ep.EndpointArn))
	msg := aws.ToString(conn.LastFailureMessage)
	if aws.ToString(conn.Status) != "successful" || !strings.Contains(msg, "For CDC") || !strings.Contains(msg, "REPLICATION") {
		t.Fatalf("status %s message %q", aws.ToString(conn.Status), msg)
	}
}

// ModifyEndpoint merges settings, keeps the password unless given, and
// RefreshSchemas / DescribeSchemas list what the endpoint really has.
func TestModifyEndpointAndSchemas(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE SCHEMA sales`, `CREATE SCHEMA "Mixed Case"`)
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	riARN := aws.ToString(createInstance(t, ctx, c, "schemas").ReplicationInstanceArn)
	ep := createEndpoint(t, c, endpointArgs{id: "pg", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: db})
	mod, err := c.ModifyEndpoint(ctx, &dmssdk.ModifyEndpointInput{EndpointArn: ep.EndpointArn,
		PostgreSQLSettings: &types.PostgreSQLSettings{SlotName: aws.String("my_slot"), HeartbeatEnable: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(mod.Endpoint.PostgreSQLSettings.SlotName) != "my_slot" || aws.ToString(mod.Endpoint.PostgreSQLSettings.ServerName) != pg.Host {
		t.Fatalf("settings after modify: %+v", mod.Endpoint.PostgreSQLSettings)
	}
	// The stored password still works.
	if st := aws.ToString(testConnection(t, ctx, c, riARN, aws.ToString(ep.EndpointArn)).Status); st != "successful" {
		t.Fatalf("after modify: %s", st)
	}
	_, err = c.DescribeSchemas(ctx, &dmssdk.DescribeSchemasInput{EndpointArn: ep.EndpointArn})
	wantFault(t, err, "InvalidResourceStateFault", "RefreshSchemas")
	r, err := c.RefreshSchemas(ctx, &dmssdk.RefreshSchemasInput{EndpointArn: ep.EndpointArn, ReplicationInstanceArn: aws.String(riARN)})
	if err != nil || r.RefreshSchemasStatus.Status != "refreshing" {
		t.Fatalf("refresh: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := c.DescribeRefreshSchemasStatus(ctx, &dmssdk.DescribeRefreshSchemasStatusInput{EndpointArn: ep.EndpointArn})
		if err != nil {
			t.Fatal(err)
		}
		if st.RefreshSchemasStatus.Status == "successful" {
			break
		}
		if st.RefreshSchemasStatus.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("refresh: %s %s", st.RefreshSchemasStatus.Status, aws.ToString(st.RefreshSchemasStatus.LastFailureMessage))
		}
		time.Sleep(20 * time.Millisecond)
	}
	sc, err := c.DescribeSchemas(ctx, &dmssdk.DescribeSchemasInput{EndpointArn: ep.EndpointArn})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(sc.Schemas, ",")
	if !strings.Contains(got, "sales") || !strings.Contains(got, "Mixed Case") || !strings.Contains(got, "public") || strings.Contains(got, "pg_catalog") {
		t.Fatalf("schemas: %s", got)
	}
}
