package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"text/tabwriter"
	"time"
)

// licenceUsage is the help of "tongban licence".
const licenceUsage = `tongban licence — the e-licence store (电子证照库) of a running hub

  tongban licence verify ID -purpose TEXT -item CODE [-holder ID] [-digest SM3HEX]
                                  verify (核验) a licence through the hub; exit 1 when it is not valid
  tongban licence show ID         a licence with its versions and change log (its issuer or admin)
  tongban licence seal DEPT       a department's public seal key (SM2)

common flags: -hub URL (default $TONGBAN_HUB, else the listen address of -config deploy/hub.yaml),
-token TOKEN (default $TONGBAN_TOKEN; verify needs a department token), -json (print the hub's answer as is)
`

// errLicenceInvalid is the error of a verification that says "not valid".
var errLicenceInvalid = errors.New("the licence is not valid (证照核验未通过)")

// runLicence serves "tongban licence ...".
func runLicence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, licenceUsage)
		return fmt.Errorf("%w: licence: want verify, show or seal", errUsage)
	}
	switch args[0] {
	case "verify":
		return licenceVerify(ctx, args[1:], stdout, stderr)
	case "show":
		return licenceShow(ctx, args[1:], stdout, stderr)
	case "seal":
		return licenceSeal(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, licenceUsage)
		return nil
	}
	return fmt.Errorf("%w: licence %s: want verify, show or seal", errUsage, args[0])
}

func licenceVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("licence verify", flag.ContinueOnError)
	opts := addHubFlags(fs)
	purpose := fs.String("purpose", "", "用证事由: why the licence is verified (required)")
	item := fs.String("item", "", "事项编码: the service item the verification serves (required)")
	holder := fs.String("holder", "", "the holder's citizen ID or USCC, checked against the licence")
	digest := fs.String("digest", "", "SM3 hex digest of the content you hold, checked against the current version")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return fmt.Errorf("%w: licence verify: want one licence identifier, got %d arguments", errUsage, len(pos))
	case *purpose == "":
		return fmt.Errorf("%w: licence verify: -purpose is required (用证事由)", errUsage)
	case *item == "":
		return fmt.Errorf("%w: licence verify: -item is required (事项编码)", errUsage)
	}
	c, err := opts.client("licence verify", true, 30*time.Second)
	if err != nil {
		return err
	}
	body := map[string]string{"id": pos[0], "purpose": *purpose, "item_code": *item}
	if *holder != "" {
		body["holder"] = *holder
	}
	if *digest != "" {
		body["digest"] = *digest
	}
	raw, err := c.do(ctx, http.MethodPost, "/api/v1/licences/verify", body)
	if err != nil {
		return err
	}
	var v struct {
		Valid      bool   `json:"valid"`
		Status     string `json:"status"`
		StatusName string `json:"status_name"`
		Reasons    []struct {
			Code, Message string
		} `json:"reasons"`
		Notes []struct {
			Code, Message string
		} `json:"notes"`
		Licence struct {
			ID         string `json:"id"`
			TypeName   string `json:"type_name"`
			HolderName string `json:"holder_name"`
			HolderID   string `json:"holder_id"`
			ValidFrom  string `json:"valid_from"`
			ValidUntil string `json:"valid_until"`
		} `json:"licence"`
		Issuer struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"issuer"`
		Version  int    `json:"version"`
		SealOK   bool   `json:"seal_ok"`
		Digest   string `json:"digest"`
		AuditSeq int64  `json:"audit_seq"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("licence verify: the hub's answer: %w", err)
	}
	if *opts.asJSON {
		if err := printJSON(stdout, raw); err != nil {
			return err
		}
	} else {
		verdict := "有效 VALID"
		if !v.Valid {
			verdict = "无效 NOT VALID"
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "核验结果 result\t%s\n", verdict)
		fmt.Fprintf(tw, "状态 status\t%s (%s)\n", v.StatusName, v.Status)
		fmt.Fprintf(tw, "证照 licence\t%s %s\n", v.Licence.TypeName, v.Licence.ID)
		fmt.Fprintf(tw, "持证主体 holder\t%s %s\n", v.Licence.HolderName, v.Licence.HolderID)
		fmt.Fprintf(tw, "有效期 validity\t%s – %s\n", v.Licence.ValidFrom, v.Licence.ValidUntil)
		fmt.Fprintf(tw, "签发机构 issuer\t%s %s\n", v.Issuer.Name, v.Issuer.Code)
		fmt.Fprintf(tw, "版本 version\t%03d\n", v.Version)
		fmt.Fprintf(tw, "电子印章 seal\t%v (SM3 %s)\n", map[bool]string{true: "验证通过 ok", false: "验证失败 FAILED"}[v.SealOK], v.Digest)
		for _, r := range v.Reasons {
			fmt.Fprintf(tw, "原因 reason\t%s: %s\n", r.Code, r.Message)
		}
		for _, r := range v.Notes {
			fmt.Fprintf(tw, "提示 note\t%s: %s\n", r.Code, r.Message)
		}
		fmt.Fprintf(tw, "审计 audit entry\t%d\n", v.AuditSeq)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !v.Valid {
		return errLicenceInvalid
	}
	return nil
}

func licenceShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("licence show", flag.ContinueOnError)
	opts := addHubFlags(fs)
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: licence show: want one licence identifier, got %d arguments", errUsage, len(pos))
	}
	c, err := opts.client("licence show", true, 30*time.Second)
	if err != nil {
		return err
	}
	raw, err := c.do(ctx, http.MethodGet, "/api/v1/licences/"+url.PathEscape(pos[0]), nil)
	if err != nil {
		return err
	}
	if *opts.asJSON {
		return printJSON(stdout, raw)
	}
	var d struct {
		Licence struct {
			ID         string `json:"id"`
			TypeName   string `json:"type_name"`
			IssuerName string `json:"issuer_name"`
			Issuer     string `json:"issuer"`
			HolderID   string `json:"holder_id"`
			HolderName string `json:"holder_name"`
			Status     string `json:"status"`
			StatusName string `json:"status_name"`
			ValidUntil string `json:"valid_until"`
		} `json:"licence"`
		Content struct {
			Fields map[string]string `json:"fields"`
		} `json:"content"`
		Versions []struct {
			Version      int        `json:"version"`
			ID           string     `json:"id"`
			Digest       string     `json:"digest"`
			SupersededAt *time.Time `json:"superseded_at"`
		} `json:"versions"`
		Events []struct {
			Event   string    `json:"event"`
			Version int       `json:"version"`
			Actor   string    `json:"actor"`
			Reason  string    `json:"reason"`
			At      time.Time `json:"at"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("licence show: the hub's answer: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	l := d.Licence
	fmt.Fprintf(tw, "证照 licence\t%s %s\n", l.TypeName, l.ID)
	fmt.Fprintf(tw, "状态 status\t%s (%s), valid until %s\n", l.StatusName, l.Status, l.ValidUntil)
	fmt.Fprintf(tw, "持证主体 holder\t%s %s\n", l.HolderName, l.HolderID)
	fmt.Fprintf(tw, "签发机构 issuer\t%s %s\n", l.IssuerName, l.Issuer)
	for _, k := range slices.Sorted(maps.Keys(d.Content.Fields)) {
		fmt.Fprintf(tw, "  %s\t%s\n", k, cell(d.Content.Fields[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nVERSION\tID\tSM3\tSUPERSEDED")
	for _, v := range d.Versions {
		sup := "-"
		if v.SupersededAt != nil {
			sup = v.SupersededAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(stdout, "%03d\t%s\t%s\t%s\n", v.Version, v.ID, v.Digest, sup)
	}
	fmt.Fprintln(stdout, "\nAT\tEVENT\tVERSION\tACTOR\t理由 REASON")
	for _, e := range d.Events {
		fmt.Fprintf(stdout, "%s\t%s\t%03d\t%s\t%s\n", e.At.Local().Format(time.DateTime), e.Event, e.Version, e.Actor, cell(e.Reason))
	}
	return nil
}

func licenceSeal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("licence seal", flag.ContinueOnError)
	opts := addHubFlags(fs)
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: licence seal: want one department code, got %d arguments", errUsage, len(pos))
	}
	c, err := opts.client("licence seal", true, 30*time.Second)
	if err != nil {
		return err
	}
	raw, err := c.do(ctx, http.MethodGet, "/api/v1/licences/seals/"+url.PathEscape(pos[0]), nil)
	if err != nil {
		return err
	}
	if *opts.asJSON {
		return printJSON(stdout, raw)
	}
	var k struct {
		Dept      string `json:"dept"`
		DeptName  string `json:"dept_name"`
		PublicKey string `json:"public_key"`
		Algorithm string `json:"algorithm"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return fmt.Errorf("licence seal: the hub's answer: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s %s\npublic key (SM2, uncompressed): %s\n%s\n", k.DeptName, k.Dept, k.PublicKey, k.Algorithm)
	return err
}
