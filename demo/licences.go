package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/store"
)

// Departments and codes of the example catalog the demo uses.
const (
	marketDept       = "112306000128140287"    // 大庆市市场监督管理局: provides MR-LP-001, issues 营业执照
	civilDept        = "112306000128140362"    // 大庆市民政局: a verifier
	businessLicence  = "112306000128140287001" // 营业执照 (deploy/catalog/licences.yaml)
	legalPersons     = "MR-LP-001"
	demoLicenceCount = 3
)

// issueDemoLicences issues a 营业执照 to the first legal persons of the
// market-regulation library, as the market-regulation bureau, with the
// values the hub holds for them; it returns the identifiers.
func issueDemoLicences(ctx context.Context, st *store.DB, svc *licence.Service) ([]string, error) {
	recs, err := st.ListRecords(ctx, legalPersons, "", demoLicenceCount, false)
	if err != nil {
		return nil, fmt.Errorf("demo: licences: %w", err)
	}
	issuer := auth.Principal{TokenID: "demo", Dept: marketDept, Role: auth.RoleDept}
	var ids []string
	for _, r := range recs {
		var row map[string]any
		if err := json.Unmarshal(r.Data, &row); err != nil {
			return nil, fmt.Errorf("demo: licences: record %s: %w", r.Key, err)
		}
		text := func(k string) string {
			if v, ok := row[k]; ok && v != nil {
				return fmt.Sprint(v)
			}
			return ""
		}
		got, err := svc.Issue(ctx, issuer, licence.IssueRequest{TypeCode: businessLicence, HolderID: text("uscc"), HolderName: text("name"),
			ValidUntil: licence.LongTerm, Fields: map[string]string{
				"legal_representative": text("legal_rep"), "registered_capital": text("registered_capital") + "万元人民币",
				"business_scope": "软件开发；信息技术咨询服务", "address": text("address"), "established_on": text("established")}})
		if err != nil {
			return nil, fmt.Errorf("demo: licence for %s: %w", r.Key, err)
		}
		ids = append(ids, got.Licence.Identifier)
	}
	return ids, nil
}

// printLicenceTry prints curl lines to verify, show and change the demo's
// licences.
func printLicenceTry(ctx context.Context, out io.Writer, st *store.DB, ids []string, apiURL string) error {
	if len(ids) == 0 {
		return nil
	}
	civil, err := auth.Create(ctx, st, "demo-民政局-核验", civilDept, auth.RoleDept)
	if err != nil {
		return fmt.Errorf("demo: department token: %w", err)
	}
	market, err := auth.Create(ctx, st, "demo-市场监管局-发证", marketDept, auth.RoleDept)
	if err != nil {
		return fmt.Errorf("demo: department token: %w", err)
	}
	fmt.Fprintf(out, "\n电子证照 e-licences: %d 张营业执照已签发 business licences issued by the market-regulation bureau (令牌 token %s)\n", len(ids), market)
	fmt.Fprintf(out, "  # 民政局核验（必须说明用证事由和事项编码）the civil-affairs bureau verifies, stating purpose and item:\n")
	fmt.Fprintf(out, "  curl -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"id\":\"%s\",\"purpose\":\"婚姻登记核验营业执照\",\"item_code\":\"MZ-HYDJ-001\"}' '%s/api/v1/licences/verify'\n", civil, ids[0], apiURL)
	fmt.Fprintf(out, "  # 发证部门查看证照及变更记录 the issuer sees the licence, its versions and events:\n")
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/licences/%s'\n", market, apiURL, url.PathEscape(ids[0]))
	fmt.Fprintf(out, "  # 暂扣后再核验即不通过 suspend it, and the verification above answers valid=false:\n")
	fmt.Fprintf(out, "  curl -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"reason\":\"行政处罚暂扣\"}' '%s/api/v1/licences/%s/suspend'\n", market, apiURL, url.PathEscape(ids[0]))
	fmt.Fprintf(out, "  # 电子印章公钥 the issuer's seal public key (SM2):\n")
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/licences/seals/%s'\n", civil, apiURL, marketDept)
	return nil
}

// publishDemoRelease publishes the legal-person library (open: 无条件开放)
// to the open-data portal.
func publishDemoRelease(ctx context.Context, svc *opendata.Service) (store.OpenRelease, error) {
	rel, err := svc.Publish(ctx, legalPersons, "demo")
	if err != nil {
		return store.OpenRelease{}, fmt.Errorf("demo: open data: %w", err)
	}
	return rel, nil
}

// printOpenTry prints the public open-data URLs (no token).
func printOpenTry(out io.Writer, rel store.OpenRelease, apiURL string) {
	fmt.Fprintf(out, "\n开放数据 open data: %s 第 %d 版 release %d, %d 行 rows（法定代表人已脱敏 legal representative masked），无需令牌 no token:\n",
		rel.Resource, rel.Number, rel.Number, rel.Rows)
	fmt.Fprintf(out, "  curl '%s/open/v1/datasets'\n", apiURL)
	fmt.Fprintf(out, "  curl '%s/open/v1/datasets/%s/releases/latest/data.csv' | head -3\n", apiURL, rel.Resource)
	fmt.Fprintf(out, "  curl -o %s.parquet '%s/open/v1/datasets/%s/releases/latest/data.parquet'\n", rel.Resource, apiURL, rel.Resource)
}

// checkLicencesAndOpen issues the demo's licences and verifies the first
// through the store, then publishes the legal-person release and compares
// its rows with the library's live records.
func checkLicencesAndOpen(ctx context.Context, out io.Writer, st *store.DB, lic *licence.Service, open *opendata.Service) error {
	fmt.Fprintln(out, "\n核对 check: e-licences and open data")
	ids, err := issueDemoLicences(ctx, st, lic)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("demo check failed: no legal person to issue a licence to")
	}
	v, err := lic.Verify(ctx, licence.VerifyRequest{ID: ids[0], Purpose: "演示核对 demo check", ItemCode: "DEMO-CHECK"})
	if err != nil {
		return fmt.Errorf("demo check: verify %s: %w", ids[0], err)
	}
	if !v.Valid || !v.SealOK {
		return fmt.Errorf("demo check failed: licence %s just issued verifies as valid=%v seal=%v (%v)", ids[0], v.Valid, v.SealOK, v.Reasons)
	}
	fmt.Fprintf(out, "  OK   %d 张营业执照签发并核验通过 business licences issued; %s verifies (SM2 seal over the SM3 digest)\n", len(ids), ids[0])
	rel, err := publishDemoRelease(ctx, open)
	if err != nil {
		return err
	}
	counts, err := st.CountRecords(ctx)
	if err != nil {
		return fmt.Errorf("demo check: %w", err)
	}
	var live int64
	for _, c := range counts {
		if c.Resource == legalPersons {
			live = c.Live
		}
	}
	if rel.Rows != live {
		return fmt.Errorf("demo check failed: open-data release %d of %s has %d rows, the library %d live records", rel.Number, legalPersons, rel.Rows, live)
	}
	fmt.Fprintf(out, "  OK   开放数据 %s 第 %d 版: %d rows = live records; CSV %d bytes, Parquet %d bytes\n", legalPersons, rel.Number, rel.Rows, rel.CSV.Bytes, rel.Parquet.Bytes)
	return nil
}
