using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>The pure parts of access control: key format, hashing, grant parsing and role implication.</summary>
public sealed class when_parsing_keys_and_grants
{
    [Fact]
    public void a_new_key_carries_its_id_and_a_256_bit_secret()
    {
        var (id, key) = ApiKeys.NewKey();
        var (parsedId, secret) = ApiKeys.Parse(key);
        Assert.Equal(id, parsedId);
        Assert.Equal(32, Convert.FromBase64String(secret.Replace('-', '+').Replace('_', '/') + "=").Length);
        Assert.NotEqual(key, ApiKeys.NewKey().Key);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), ApiKeys.Hash(secret));
    }

    [Theory]
    [InlineData("esr_abc_se_cr-et", "abc", "se_cr-et")]
    [InlineData("some-long-configured-bootstrap-key", ApiKeys.BootstrapId, "some-long-configured-bootstrap-key")]
    [InlineData("esr__x", ApiKeys.BootstrapId, "esr__x")]
    [InlineData("esr_abc_", ApiKeys.BootstrapId, "esr_abc_")]
    public void a_key_not_in_the_esr_format_can_only_be_the_configured_bootstrap_key(string key, string id, string secret) =>
        Assert.Equal((id, secret), ApiKeys.Parse(key));

    [Theory]
    [InlineData("reader", "reader", null)]
    [InlineData("Contributor:Churn", "contributor", "churn")]
    [InlineData("approver:fraud", "approver", "fraud")]
    public void a_role_value_is_a_grant(string value, string role, string? model) =>
        Assert.Equal(new Grant(role, ModelName: model), AccessClaims.ParseGrant(value));

    [Theory]
    [InlineData("superuser")]
    [InlineData("admin:churn")]
    [InlineData("auditor:churn")]
    [InlineData("reader:")]
    [InlineData("")]
    public void unknown_roles_and_model_scoped_admin_or_auditor_grant_nothing(string value) =>
        Assert.Null(AccessClaims.ParseGrant(value));

    [Theory]
    [InlineData(Roles.Admin, Roles.Contributor, true)]
    [InlineData(Roles.Admin, Roles.Auditor, true)]
    [InlineData(Roles.Contributor, Roles.Reader, true)]
    [InlineData(Roles.Approver, Roles.Reader, true)]
    [InlineData(Roles.Auditor, Roles.Reader, true)]
    [InlineData(Roles.Reader, Roles.Contributor, false)]
    [InlineData(Roles.Contributor, Roles.Approver, false)]
    [InlineData(Roles.Approver, Roles.Contributor, false)]
    [InlineData(Roles.Auditor, Roles.Contributor, false)]
    [InlineData(Roles.Contributor, Roles.Admin, false)]
    public void admin_implies_every_role_and_the_others_imply_reader(string held, string required, bool implied) =>
        Assert.Equal(implied, Roles.Implies(held, required));
}
