package rftest

import (
	"crypto/rand"
	"fmt"
)

// Account is a Referral Factory account as a test sees it.
type Account struct {
	ID int64
	// Token is the one active API token; RotateToken replaces it.
	Token string
	// InboundToken is the secret in the account's inbound qualify URL.
	InboundToken string
}

// Campaign is a referral campaign of an account.
type Campaign struct {
	ID        int64
	AccountID int64
	Name      string
	Code      string
}

type account struct {
	Account
}

type campaign struct {
	Campaign
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newToken returns an unguessable token of n letters and digits, like the
// 80-character tokens Referral Factory issues.
func newToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}

// AddAccount creates an account with a fresh API token and inbound token.
func (s *Server) AddAccount() Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &account{Account{ID: s.nextAccount, Token: newToken(80), InboundToken: newToken(40)}}
	s.nextAccount++
	s.accounts[a.ID] = a
	s.apiTokens[a.Token] = a.ID
	s.inbound[a.InboundToken] = a.ID
	return a.Account
}

// Account returns the account with id.
func (s *Server) Account(id int64) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return Account{}, false
	}
	return a.Account, true
}

// RotateToken generates a new API token for the account, as "generate new
// token" in Referral Factory's settings does: the old token stops working
// at once (one active token per account).
func (s *Server) RotateToken(accountID int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return "", fmt.Errorf("rftest: no account %d", accountID)
	}
	delete(s.apiTokens, a.Token)
	a.Token = newToken(80)
	s.apiTokens[a.Token] = a.ID
	return a.Token, nil
}

// InboundURL returns the account's inbound qualify webhook URL, as its
// settings page shows it.
func (s *Server) InboundURL(accountID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return ""
	}
	return s.url + "/webhook/" + a.InboundToken + "/qualify"
}

// AddCampaign creates a campaign in the account.
func (s *Server) AddCampaign(accountID int64, name string) (Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[accountID]; !ok {
		return Campaign{}, fmt.Errorf("rftest: no account %d", accountID)
	}
	c := &campaign{Campaign{ID: s.nextCamp, AccountID: accountID, Name: name, Code: s.newCodeLocked(6)}}
	s.nextCamp++
	s.campaigns[c.ID] = c
	return c.Campaign, nil
}

const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// newCodeLocked returns a code of n characters unique across the simulator.
func (s *Server) newCodeLocked(n int) string {
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = codeAlphabet[s.rng.IntN(len(codeAlphabet))]
		}
		if c := string(b); !s.codes[c] {
			s.codes[c] = true
			return c
		}
	}
}
