package rftest

import (
	"fmt"
	"strings"
)

// SeedCampaign fills a campaign with referrers, each with leadsPer leads,
// and qualifies every qualifyEvery-th lead (0: none). Emails are
// referrer-{campaign}-{n}@example.test and lead-{campaign}-{n}-{m}@example.test;
// every user has a "Company" form field. It returns the users created, in
// joining order, and sends the campaign's webhooks like any join.
func (s *Server) SeedCampaign(campaignID int64, referrers, leadsPer, qualifyEvery int) ([]User, error) {
	var out []User
	leads := 0
	for n := 1; n <= referrers; n++ {
		ref, err := s.AddUser(NewUser{CampaignID: campaignID, FirstName: fmt.Sprintf("Referrer%d", n),
			Email: fmt.Sprintf("referrer-%d-%d@example.test", campaignID, n), Meta: []Meta{{Field: "Company", Value: fmt.Sprintf("Company %d", n)}}})
		if err != nil {
			return out, err
		}
		out = append(out, ref)
		for m := 1; m <= leadsPer; m++ {
			lead, err := s.AddUser(NewUser{CampaignID: campaignID, ReferrerID: ref.ID, FirstName: fmt.Sprintf("Lead%d", m),
				Email: fmt.Sprintf("lead-%d-%d-%d@example.test", campaignID, n, m), Meta: []Meta{{Field: "Company", Value: fmt.Sprintf("Lead Co %d-%d", n, m)}}})
			if err != nil {
				return out, err
			}
			leads++
			if qualifyEvery > 0 && leads%qualifyEvery == 0 {
				if lead, err = s.QualifyUser(lead.ID); err != nil {
					return out, err
				}
			}
			out = append(out, lead)
		}
	}
	return out, nil
}

// Demo is what SeedDemo created.
type Demo struct {
	Account   Account
	Campaigns []Campaign
	Users     int
}

// DemoOptions shapes SeedDemo.
type DemoOptions struct {
	// Referrers per campaign, each with LeadsPer leads.
	Referrers, LeadsPer int
	// Webhooks are added to every campaign before anyone joins, so the
	// seeded joins and qualifications are sent to them.
	Webhooks []Webhook
}

// SeedDemo creates one account with two campaigns ("Spring Referrals" and
// "Partner Program") of o.Referrers referrers with o.LeadsPer leads each,
// every third lead qualified: data for trying a backfill and qualification.
func (s *Server) SeedDemo(o DemoOptions) (Demo, error) {
	d := Demo{Account: s.AddAccount()}
	for _, name := range []string{"Spring Referrals", "Partner Program"} {
		c, err := s.AddCampaign(d.Account.ID, name)
		if err != nil {
			return d, err
		}
		for _, w := range o.Webhooks {
			if _, err := s.AddWebhook(c.ID, w); err != nil {
				return d, err
			}
		}
		users, err := s.SeedCampaign(c.ID, o.Referrers, o.LeadsPer, 3)
		d.Users += len(users)
		if err != nil {
			return d, fmt.Errorf("rftest: seed %s: %w", strings.ToLower(name), err)
		}
		d.Campaigns = append(d.Campaigns, c)
	}
	return d, nil
}
