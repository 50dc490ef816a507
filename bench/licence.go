package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/deploy"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// The licence measurement: the example catalog's 营业执照, issued by the
// market regulator and verified by the civil-affairs bureau.
const (
	licenceBenchType     = "112306000128140287001"
	licenceBenchIssuer   = "112306000128140287" // 市场监管局
	licenceBenchVerifier = benchCaller          // 民政局
	// maxLicenceBenchLicences is how many licences are issued (fewer when
	// Config.ShareRequests is smaller, at least minLicenceBenchLicences).
	maxLicenceBenchLicences = 5000
	minLicenceBenchLicences = 100
	licencePurpose          = "性能测试：核验营业执照"
	licenceItemCode         = "BENCH-LIC-001"
	// rawSM2Messages is how many distinct signed digests the baseline cycles through.
	rawSM2Messages = 256
)

// licenceBench is what the licence measurement found.
type licenceBench struct {
	licences         int
	api, raw         latencies
	rawGoroutines    int
	cacheHits, calls float64 // of the timed API run, from the service's counters
}

// licenceResults measures licence verification through the whole hub API
// against raw SM2 verifications, self-contained in a fresh SQLite store in
// Config.Dir.
func (r *runner) licenceResults(ctx context.Context) ([]Result, error) {
	var lb licenceBench
	err := r.profiled("licence", func() (err error) {
		lb, err = r.licenceBench(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	apiRate, rawRate := lb.api.perSec(), lb.raw.perSec()
	p50, p99 := quantileMS(lb.api.d, 0.50), quantileMS(lb.api.d, 0.99)
	rawP50, rawP99 := quantileMS(lb.raw.d, 0.50), quantileMS(lb.raw.d, 0.99)
	r.step("licence: API %.0f verifications/s, p50 %.2f ms, p99 %.2f ms; raw SM2 %.0f verifications/s from %d goroutines",
		apiRate, p50, p99, rawRate, lb.rawGoroutines)
	conc := fmt.Sprintf("%d concurrent", r.cfg.ShareClients)
	base := fmt.Sprintf("raw SM2 verify (gmsm, %d goroutines)", lb.rawGoroutines)
	hitShare := 0.0
	if lb.calls > 0 {
		hitShare = 100 * lb.cacheHits / lb.calls
	}
	what := fmt.Sprintf("POST /api/v1/licences/verify over real HTTP on loopback, %d clients with keep-alive, %d timed calls (at most %d, for at most %s, "+
		"after one untimed call per client) on random licences of %d 营业执照 issued into a fresh SQLite store (SM2-sealed by the issuer); each call: "+
		"bearer-token lookup, strict JSON decoding and checks of id (GB/T 36904 MOD 37,36), purpose, item code and holder, one joined store read "+
		"(licence, asked and current version, issuer's seal key), SM3 of the stored canonical content recomputed, the SM2 seal checked — "+
		"answered by the cache of successful verifications (key, recomputed digest, signature) in %.1f%% of the timed calls (%.0f of %.0f), "+
		"the full SM2 verification in the others — canonical-form parse and record/content consistency check, status, dates and holder, "+
		"an SM3-chained audit entry committed before the answer; the answer is checked to be valid with the seal ok; clients and server share the "+
		"machine's CPUs; the baseline is sm2.VerifyASN1WithSM2 (Z value with the default user id, SM3, curve verification) of 32-byte digests, "+
		"%d distinct signatures, from GOMAXPROCS goroutines in this process within the same limits",
		r.cfg.ShareClients, lb.api.calls, r.cfg.ShareRequests, r.cfg.ShareDuration, lb.licences, hitShare, lb.cacheHits, lb.calls, rawSM2Messages)
	ratioAPI := ratio(apiRate, rawRate)
	return []Result{
		{Name: "licence verification (API, " + conc + ")", Unit: "verifications/s", Value: apiRate, Baseline: base, BaselineValue: rawRate,
			Ratio: ratioAPI, Rows: lb.licences, Target: "≥ 0.5× raw SM2", Met: met(ratioAPI >= 0.5), Status: StatusMeasured, Note: what},
		{Name: "licence verification p50 (" + conc + ")", Unit: "ms", Value: p50, Baseline: base, BaselineValue: rawP50, Ratio: ratio(p50, rawP50),
			Rows: lb.licences, Status: StatusMeasured,
			Note: "latency of each API call as the client sees it; the baseline is one raw SM2 verification's time; the ratio is × the baseline's latency"},
		{Name: "licence verification p99 (" + conc + ")", Unit: "ms", Value: p99, Baseline: base, BaselineValue: rawP99, Ratio: ratio(p99, rawP99),
			Rows: lb.licences, Status: StatusMeasured, Note: "as the p50 line"},
	}, nil
}

// licenceBench issues the licences, serves the API and runs both measurements.
func (r *runner) licenceBench(ctx context.Context) (licenceBench, error) {
	n := min(maxLicenceBenchLicences, max(minLicenceBenchLicences, r.cfg.ShareRequests))
	dir := filepath.Join(r.cfg.Dir, "licence")
	if err := os.RemoveAll(dir); err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}
	sub, err := fs.Sub(deploy.Catalog, "catalog")
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: example catalog: %w", err)
	}
	if err := os.CopyFS(filepath.Join(dir, "catalog"), sub); err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: write the example catalog: %w", err)
	}
	cat, err := catalog.Load(filepath.Join(dir, "catalog"))
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}
	if lt, ok := cat.LicenceType(licenceBenchType); !ok || !lt.MayIssue(licenceBenchIssuer) {
		return licenceBench{}, fmt.Errorf("bench: licence: the example catalog has no licence type %s issued by %s", licenceBenchType, licenceBenchIssuer)
	}
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "hub.db")})
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}
	defer db.Close()
	discard := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	svc, err := licence.New(licence.Config{Store: db, Catalog: cat, Registry: reg, Logger: discard})
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}

	// The licences.
	r.step("licence: issuing %d 营业执照 into a fresh SQLite store (SM3 digest and SM2 seal each)", n)
	start := time.Now()
	issuer := auth.Principal{TokenID: "bench-issuer", Dept: licenceBenchIssuer, Role: auth.RoleDept}
	rng := mrand.New(mrand.NewPCG(7, 7))
	ids := make([]string, 0, n)
	holders := make(map[string]string, n)
	for i := range n {
		holder := identifier.GenerateUSCC(rng, identifier.RandomRegion(rng))
		got, err := svc.Issue(ctx, issuer, licence.IssueRequest{TypeCode: licenceBenchType, HolderID: holder,
			HolderName: "性能测试企业" + strconv.Itoa(i), ValidUntil: licence.LongTerm,
			Fields: map[string]string{"legal_representative": "张三", "registered_capital": strconv.Itoa(10+i%990) + "万元人民币",
				"business_scope": "软件开发；信息技术咨询服务；数据处理和存储支持服务", "address": "大庆市高新区新风路" + strconv.Itoa(i) + "号"}})
		if err != nil {
			return licenceBench{}, fmt.Errorf("bench: licence: issue %d: %w", i, err)
		}
		ids = append(ids, got.Licence.Identifier)
		holders[got.Licence.Identifier] = holder
		if (i+1)%1000 == 0 {
			r.step("licence: %d issued", i+1)
		}
	}
	r.step("licence: %d issued in %s", n, time.Since(start).Round(time.Millisecond))

	// The API, as the hub serves it.
	al, err := audit.New(audit.Config{Store: db, Logger: discard})
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}
	defer func() { _ = al.Close(context.WithoutCancel(ctx)) }()
	h, err := api.New(api.Config{Store: db, Catalog: cat, Licences: svc, Audit: al, AuditLog: db, Registry: reg, Logger: discard})
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}
	token, err := auth.Create(ctx, db, "bench-verifier", licenceBenchVerifier, auth.RoleDept)
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence: listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	}()
	clients := r.cfg.ShareClients
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := "http://" + ln.Addr().String() + api.Prefix + "/licences/verify"
	bearer := "Bearer " + token
	call := func(ctx context.Context, id string) error {
		body, err := json.Marshal(map[string]string{"id": id, "purpose": licencePurpose, "item_code": licenceItemCode, "holder": holders[id]})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("bench: licence verification: %w", err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("bench: licence verification: read the answer: %w", err)
		}
		// The answer must say valid with the seal checked, not just be a 200.
		if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"valid":true`)) || !bytes.Contains(raw, []byte(`"seal_ok":true`)) {
			return fmt.Errorf("bench: licence verification of %s: %d %.300s", id, resp.StatusCode, raw)
		}
		return nil
	}
	out := licenceBench{licences: n}
	r.step("licence: up to %d verifications (at most %s) from %d concurrent clients, then raw SM2 verifications within the same limits",
		r.cfg.ShareRequests, r.cfg.ShareDuration, clients)
	if _, err := runConcurrent(ctx, clients, clients, 0, ids, 1, call); err != nil {
		return licenceBench{}, err
	}
	hits0, calls0 := counterSum(reg, "tongban_licence_seal_cache_hits_total"), counterSum(reg, "tongban_licence_verifications_total")
	if out.api, err = runConcurrent(ctx, r.cfg.ShareRequests, clients, r.cfg.ShareDuration, ids, 2, call); err != nil {
		return licenceBench{}, err
	}
	out.cacheHits = counterSum(reg, "tongban_licence_seal_cache_hits_total") - hits0
	out.calls = counterSum(reg, "tongban_licence_verifications_total") - calls0

	// The baseline: raw SM2 verifications of sealed digests, on as many
	// goroutines as the Go scheduler runs at once.
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return licenceBench{}, fmt.Errorf("bench: licence baseline: %w", err)
	}
	digests, sigs := make([][]byte, rawSM2Messages), make([][]byte, rawSM2Messages)
	names := make([]string, rawSM2Messages)
	for i := range rawSM2Messages {
		d := sm3.Sum([]byte("licence content " + strconv.Itoa(i)))
		digests[i] = d[:]
		if sigs[i], err = sm2.SignASN1(rand.Reader, key, digests[i], sm2.DefaultSM2SignerOpts); err != nil {
			return licenceBench{}, fmt.Errorf("bench: licence baseline: %w", err)
		}
		names[i] = strconv.Itoa(i)
	}
	verify := func(_ context.Context, name string) error {
		i, _ := strconv.Atoi(name)
		if !sm2.VerifyASN1WithSM2(&key.PublicKey, nil, digests[i], sigs[i]) {
			return errors.New("bench: licence baseline: a signature does not verify")
		}
		return nil
	}
	out.rawGoroutines = runtime.GOMAXPROCS(0)
	if _, err := runConcurrent(ctx, out.rawGoroutines, out.rawGoroutines, 0, names, 1, verify); err != nil {
		return licenceBench{}, err
	}
	if out.raw, err = runConcurrent(ctx, r.cfg.ShareRequests, out.rawGoroutines, r.cfg.ShareDuration, names, 2, verify); err != nil {
		return licenceBench{}, err
	}
	return out, nil
}

// counterSum is the sum of a counter family's series in reg (0 when absent).
func counterSum(reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
