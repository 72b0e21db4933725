package tenants

// NoEmailError is what Mapping.Apply returns when a signup gives no usable
// email: Problem says where the mapping looked and what it found, in words
// meant for the admin. It is ErrNoEmail (errors.Is).
type NoEmailError struct{ Problem string }

func (e *NoEmailError) Error() string { return ErrNoEmail.Error() + ": " + e.Problem }

// Unwrap makes a *NoEmailError match ErrNoEmail.
func (e *NoEmailError) Unwrap() error { return ErrNoEmail }

// ElsewhereError is what Install returns for a portal connected to a
// workspace the installing user is not a member of; OwnerEmail is that
// workspace's owner, to ask. It is ErrPortalElsewhere (errors.Is).
type ElsewhereError struct{ OwnerEmail string }

func (e *ElsewhereError) Error() string {
	return ErrPortalElsewhere.Error() + " (owner " + e.OwnerEmail + ")"
}

// Unwrap makes an *ElsewhereError match ErrPortalElsewhere.
func (e *ElsewhereError) Unwrap() error { return ErrPortalElsewhere }

// DefaultSecretHeader is the header a source's shared secret travels in
// unless the admin picks another name.
const DefaultSecretHeader = "X-Refhub-Secret"

// SecretHeader is the header Referral Factory sends the source's shared
// secret in: the name the admin chose, or DefaultSecretHeader.
func (s *Source) SecretHeader() string {
	if s.SecretName == "" {
		return DefaultSecretHeader
	}
	return s.SecretName
}
