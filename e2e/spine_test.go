package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/broker"
	"github.com/tongban/tongban/identifier"
)

const (
	deptCode = "1123060001281401X7" // 大庆市公安局 in deploy/catalog
	resCode  = "E2E-PEOPLE-001"
)

const catalogDepartments = `departments:
  - code: 1123060001281401X7
    name: 大庆市公安局
  - code: "112306000128140287"
    name: 大庆市市场监督管理局
`

const catalogResource = `code: E2E-PEOPLE-001
name: 端到端测试人员
provider: 1123060001281401X7
subject: {type: person, field: citizen_id}
primary_key: [id]
share_type: unconditional
open_type: closed
open_basis: 测试数据不开放
update_cycle: daily
fields:
  - {name: id, type: int64}
  - {name: citizen_id, type: string, sensitivity: personal}
  - {name: name, type: string, sensitivity: personal}
  - {name: note, type: string, nullable: true}
  - {name: amount, type: "decimal(18,2)", nullable: true}
  - {name: birth, type: date, nullable: true}
  - {name: updated_at, type: timestamp}
`

// sourceRow is what row i of the generated table holds.
type sourceRow struct {
	id         int64
	citizenID  string
	name       string
	note       any // string or nil
	amount     any // string or nil
	birth      any // "2006-01-02" or nil
	updatedAt  time.Time
	updatedTxt string
}

var surnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"}
var given = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇"}

func genRow(i int) sourceRow {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	birth := time.Date(1950+i%55, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
	row := sourceRow{
		id:        int64(i + 1),
		citizenID: identifier.GenerateCitizenID(r, "230602", birth, 1+i%2),
		name:      surnames[i%len(surnames)] + given[(i/10)%len(given)],
		updatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Add(time.Duration(i%1000) * time.Microsecond),
	}
	if i%1000 == 7 {
		row.name += "😀"
	}
	if i%10 != 3 {
		row.note = fmt.Sprintf("备注%d号（国标）", i)
	}
	if i%10 != 5 {
		row.amount = fmt.Sprintf("%d.%02d", i*37%100000, i%100)
	}
	if i%13 != 0 {
		row.birth = birth.Format("2006-01-02")
	}
	row.updatedTxt = row.updatedAt.Format("2006-01-02T15:04:05.000000")
	return row
}

func (s sourceRow) args() []any {
	return []any{s.id, s.citizenID, s.name, s.note, s.amount, s.birth, s.updatedAt.Format("2006-01-02 15:04:05.000000")}
}

// want is the JSON object the hub must hold for the row.
func (s sourceRow) want() map[string]any {
	return map[string]any{
		"id": float64(s.id), "citizen_id": s.citizenID, "name": s.name, "note": s.note,
		"amount": s.amount, "birth": s.birth, "updated_at": s.updatedTxt,
	}
}

func createPeople(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	_, err := db.Exec(`CREATE TABLE people (
		id BIGINT NOT NULL PRIMARY KEY,
		citizen_id VARCHAR(18) NOT NULL,
		name VARCHAR(32) NOT NULL,
		note VARCHAR(64) CHARACTER SET gbk NULL,
		amount DECIMAL(18,2) NULL,
		birth DATE NULL,
		updated_at DATETIME(6) NOT NULL,
		KEY (updated_at)
	) DEFAULT CHARSET=utf8mb4`)
	if err != nil {
		t.Fatal(err)
	}
	const per = 1000
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var sb strings.Builder
		sb.WriteString("INSERT INTO people (id, citizen_id, name, note, amount, birth, updated_at) VALUES ")
		args := make([]any, 0, (end-start)*7)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?)")
			args = append(args, genRow(i).args()...)
		}
		if _, err := db.Exec(sb.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
}

// spine is one hub and one agent around a MariaDB table and a broker.
type spine struct {
	t          *testing.T
	dir        string
	db         *sql.DB
	dsn        string
	broker     *broker.Broker
	brokerDir  string
	brokerAddr string
	hubAddr    string
	hubConfig  string
	agentConf  string
	admin      string
	deptToken  string
	hub        *proc
	agent      *proc
}

type spineOpts struct {
	rows      int
	chunkRows int
	interval  string
}

func newSpine(t *testing.T, o spineOpts) *spine {
	t.Helper()
	s := &spine{t: t, dir: t.TempDir()}
	s.db, s.dsn = mariadb(t)
	createPeople(t, s.db, o.rows)

	writeFile(t, filepath.Join(s.dir, "catalog/departments.yaml"), catalogDepartments)
	writeFile(t, filepath.Join(s.dir, "catalog/resources/people.yaml"), catalogResource)

	s.brokerDir = filepath.Join(s.dir, "kafka")
	s.startBroker("")

	s.hubAddr = freeAddr(t)
	s.hubConfig = filepath.Join(s.dir, "hub.yaml")
	writeFile(t, s.hubConfig, fmt.Sprintf(`kafka:
  brokers: [%q]
  partitions: 6
store:
  driver: sqlite
  dsn: %q
catalog_dir: %q
listen: %q
sharing:
  lists_dir: ""   # the deploy lists name resources this catalog lacks
`, s.brokerAddr, filepath.Join(s.dir, "hub.db"), filepath.Join(s.dir, "catalog"), s.hubAddr))

	out, err := run(t, "tongban", "token", "create", "-config", s.hubConfig, "-name", "e2e-admin", "-admin")
	if s.admin = lastToken(out); err != nil || s.admin == "" {
		t.Fatalf("token create admin: %v\n%s", err, out)
	}
	out, err = run(t, "tongban", "token", "create", "-config", s.hubConfig, "-name", "e2e-agent", "-dept", deptCode)
	if s.deptToken = lastToken(out); err != nil || s.deptToken == "" {
		t.Fatalf("token create dept: %v\n%s", err, out)
	}

	chunk := o.chunkRows
	if chunk == 0 {
		chunk = 2000
	}
	interval := o.interval
	if interval == "" {
		interval = "1s"
	}
	s.agentConf = filepath.Join(s.dir, "agent.yaml")
	writeFile(t, s.agentConf, fmt.Sprintf(`dept: %q
agent_id: e2e-agent
hub:
  url: %q
  token: %q
  heartbeat_interval: 1s
kafka:
  brokers: [%q]
  write_timeout: 5s
state_dir: %q
metrics_listen: off
resources:
  - code: %s
    connector: mysql
    dsn: %q
    table: people
    watermark: updated_at
    mode: incremental
    interval: %s
    overlap: 2s
    reconcile_interval: %s
    chunk_rows: %d
`, deptCode, "http://"+s.hubAddr, s.deptToken, s.brokerAddr, filepath.Join(s.dir, "agent-state"), resCode, s.dsn, interval, interval, chunk))
	return s
}

func (s *spine) startBroker(addr string) {
	b, err := broker.Start(context.Background(), broker.Config{Addr: addr, Dir: s.brokerDir, Partitions: 6})
	if err != nil {
		s.t.Fatalf("start broker: %v", err)
	}
	s.broker, s.brokerAddr = b, b.Addr()
	s.t.Cleanup(b.Close)
}

func (s *spine) startHub() {
	s.hub = start(s.t, "hub", "-config", s.hubConfig)
	waitFor(s.t, "hub /healthz", 60*time.Second, func() (bool, string) {
		if s.hub.exited() {
			s.t.Fatalf("hub exited: %s", s.hub.tail(30))
		}
		code, err := apiGet("http://"+s.hubAddr, "", "/healthz", nil)
		return code == 200, fmt.Sprint(code, err)
	})
}

func (s *spine) startAgent() {
	s.agent = start(s.t, "agent", "-config", s.agentConf)
}

// hubRecords pages through the department library of the resource.
func (s *spine) hubRecords(includeDeleted bool) (map[string]apiRecord, error) {
	out := map[string]apiRecord{}
	after := ""
	for {
		var page recordsPage
		q := url.Values{"limit": {"1000"}, "after": {after}}
		if includeDeleted {
			q.Set("include_deleted", "true")
		}
		if _, err := apiGet("http://"+s.hubAddr, s.admin, "/api/v1/resources/"+resCode+"/records?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			if _, dup := out[r.Key]; dup {
				return nil, fmt.Errorf("key %s returned twice", r.Key)
			}
			out[r.Key] = r
		}
		if page.Next == "" || len(page.Records) == 0 {
			return out, nil
		}
		after = page.Next
	}
}

// liveCount polls the ingest stats for the live record count.
func (s *spine) liveCount() (int64, error) {
	var st ingestStats
	if _, err := apiGet("http://"+s.hubAddr, s.admin, "/api/v1/ingest/stats", &st); err != nil {
		return 0, err
	}
	for _, r := range st.Resources {
		if r.Resource == resCode {
			return r.Live, nil
		}
	}
	return 0, nil
}

func (s *spine) waitLive(n int64, timeout time.Duration) {
	s.t.Helper()
	waitFor(s.t, fmt.Sprintf("%d live records at the hub", n), timeout, func() (bool, string) {
		c, err := s.liveCount()
		return err == nil && c == n, fmt.Sprint(c, err)
	})
}

// checkExactlyOnce compares every live hub record with the generated source rows.
func (s *spine) checkExactlyOnce(n int, override map[int]sourceRow, deleted map[int]bool) {
	s.t.Helper()
	recs, err := s.hubRecords(false)
	if err != nil {
		s.t.Fatal(err)
	}
	want := n - len(deleted)
	if len(recs) != want {
		s.t.Fatalf("hub holds %d live records, want %d", len(recs), want)
	}
	bad := 0
	for i := 0; i < n; i++ {
		row := genRow(i)
		if o, ok := override[i]; ok {
			row = o
		}
		key := fmt.Sprint(row.id)
		got, ok := recs[key]
		if deleted[i] {
			if ok {
				s.t.Errorf("deleted row %s still live", key)
			}
			continue
		}
		if !ok {
			s.t.Errorf("row %s missing at the hub", key)
			bad++
		} else {
			for f, w := range row.want() {
				if g := got.Data[f]; g != w {
					s.t.Errorf("row %s field %s = %#v, want %#v", key, f, g, w)
					bad++
				}
			}
		}
		if bad > 10 {
			s.t.Fatal("too many differences")
		}
	}
}

func TestBinariesBuilt(t *testing.T) {
	if binDir == "" {
		t.Fatal("binaries not built")
	}
	if _, err := os.Stat(filepath.Join(binDir, "agent")); err != nil {
		t.Fatal(err)
	}
}

type apiRecord struct {
	Key     string         `json:"key"`
	Version int64          `json:"version"`
	Deleted bool           `json:"deleted"`
	Data    map[string]any `json:"data"`
}

type recordsPage struct {
	Records []apiRecord `json:"records"`
	Next    string      `json:"next_after"`
}

type ingestStats struct {
	Resources []struct {
		Resource    string `json:"resource"`
		Live        int64  `json:"live"`
		Deleted     int64  `json:"deleted"`
		DeadLetters int64  `json:"dead_letters"`
	} `json:"resources"`
	DeadLettersStored int64 `json:"dead_letters_stored"`
}
