using EventSourcedRegistry.Store;
using System.Net.Http.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Idempotency;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Idempotency;

/// <summary>
/// Issue 13, item 8: Idempotency-Key records are the caller's own and expire. On main a key was global: a second caller
/// sending the same key and body got the first caller's response replayed (and its version number), and records were
/// kept for ever.
/// </summary>
public sealed class when_idempotency_keys_belong_to_their_caller(AppFixture app) : ApiTest(app)
{
    private static object Version(string uri = "s3://models/churn/run-7.onnx") =>
        new { artifact = new { uri, sha256 = RegistryCalls.Sha256A, sizeBytes = 1234 } };

    private static async Task<RegistryCalls.Response> RegisterWithKey(HttpClient client, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/models/churn/versions") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await RegistryCalls.Read(await client.SendAsync(request));
    }

    private static int VersionOf(RegistryCalls.Response response)
    {
        Assert.True(response.Status == 201, $"{response.Status} {response.Body}");
        return response.Body!["version"]!.GetValue<int>();
    }

    [Fact]
    public async Task another_caller_with_the_same_key_and_body_gets_its_own_command_never_the_first_callers_response()
    {
        await Host.RegisterModel("churn");
        using var first = await Host.ClientWithRoles("contributor:churn");
        using var second = await Host.ClientWithRoles("contributor:churn");

        var mine = await RegisterWithKey(first, "nightly-run", Version());
        var theirs = await RegisterWithKey(second, "nightly-run", Version());
        var myRetry = await RegisterWithKey(first, "nightly-run", Version());
        var theirRetry = await RegisterWithKey(second, "nightly-run", Version());

        Assert.Equal(1, VersionOf(mine));
        Assert.Equal(2, VersionOf(theirs));
        Assert.Null(theirs.Header("Idempotent-Replayed"));
        Assert.Equal(mine.Body!.ToJsonString(), myRetry.Body!.ToJsonString());
        Assert.Equal("true", myRetry.Header("Idempotent-Replayed"));
        Assert.Equal(theirs.Body!.ToJsonString(), theirRetry.Body!.ToJsonString());
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task another_callers_key_with_another_body_is_not_a_collision()
    {
        await Host.RegisterModel("churn");
        using var first = await Host.ClientWithRoles("contributor:churn");
        using var second = await Host.ClientWithRoles("contributor:churn");

        Assert.Equal(1, VersionOf(await RegisterWithKey(first, "k-1", Version("s3://a/1.onnx"))));
        var other = await RegisterWithKey(second, "k-1", Version("s3://b/2.onnx"));
        var ownReuse = await RegisterWithKey(first, "k-1", Version("s3://a/other.onnx"));

        Assert.Equal(2, VersionOf(other));
        Assert.Equal("s3://b/2.onnx", other.Body!["artifact"]!["uri"]!.GetValue<string>());
        ownReuse.AssertProblem(422);
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_token_and_a_key_are_different_callers_and_two_tokens_of_one_subject_are_one()
    {
        await Host.RegisterModel("churn");
        var created = await Host.CreateKey("contributor:churn");
        using var key = Host.ClientWithKey(created.Key);
        using var token = Host.ClientWithToken(Support.Access.Token("ci-runner", ["contributor:churn"]));
        using var renewed = Host.ClientWithToken(Support.Access.Token("ci-runner", ["contributor:churn"], TimeSpan.FromMinutes(20)));
        // A token that carries the key's id as a claim is still its own subject, not the key.
        using var impostor = Host.ClientWithToken(TokenNamingKey("impostor", created.Id));

        var byKey = await RegisterWithKey(key, "deploy-9", Version());
        var byToken = await RegisterWithKey(token, "deploy-9", Version());
        var byRenewedToken = await RegisterWithKey(renewed, "deploy-9", Version());
        var byImpostor = await RegisterWithKey(impostor, "deploy-9", Version());

        Assert.Equal(1, VersionOf(byKey));
        Assert.Equal(2, VersionOf(byToken));
        Assert.Equal(byToken.Body!.ToJsonString(), byRenewedToken.Body!.ToJsonString());
        Assert.Equal("true", byRenewedToken.Header("Idempotent-Replayed"));
        Assert.Equal(3, VersionOf(byImpostor));
        Assert.Equal(4, await Store.StreamLength("churn"));
    }

    private static string TokenNamingKey(string subject, string keyId) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Subject = new System.Security.Claims.ClaimsIdentity([
                new("sub", subject), new("roles", "contributor:churn"), new("esr:key-id", keyId)]),
            Issuer = AppFixture.JwtIssuer,
            Audience = AppFixture.JwtAudience,
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(AppFixture.JwtSigningKey)),
                Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });

    [Fact]
    public async Task the_same_caller_still_replays_and_appends_once_under_parallel_sends()
    {
        await Host.RegisterModel("churn");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RegisterWithKey(pipeline, "parallel-1", Version())));

        Assert.All(responses, r => Assert.Equal(1, VersionOf(r)));
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    /// <summary>Moves every stored record's time back by <paramref name="age"/>, as if it had been stored that long ago.</summary>
    private async Task Age(TimeSpan age)
    {
        var changed = await App.Sql(
            "update registry.mt_doc_idempotencyrecord set stored_at = stored_at - $1, " +
            "data = jsonb_set(data, '{storedAt}', to_jsonb((data ->> 'storedAt')::timestamptz - $1))", age);
        Assert.True(changed > 0, "no idempotency record to age");
    }

    [Fact]
    public async Task a_record_past_the_retention_no_longer_replays_and_the_retry_is_a_new_command()
    {
        await Host.RegisterModel("churn");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        Assert.Equal(1, VersionOf(await RegisterWithKey(pipeline, "weekly", Version())));
        await Age(TimeSpan.FromDays(6));
        Assert.Equal(1, VersionOf(await RegisterWithKey(pipeline, "weekly", Version())));  // within 7 days: replayed

        await Age(TimeSpan.FromDays(2));
        var afterRetention = await RegisterWithKey(pipeline, "weekly", Version());
        var retried = await RegisterWithKey(pipeline, "weekly", Version());

        Assert.Equal(2, VersionOf(afterRetention));
        Assert.Null(afterRetention.Header("Idempotent-Replayed"));
        Assert.Equal(2, VersionOf(retried));                                                // the new record replays
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task the_purge_removes_expired_records_and_keeps_current_ones()
    {
        await Host.RegisterModel("churn");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        VersionOf(await RegisterWithKey(pipeline, "old", Version("s3://a/old.onnx")));
        await Age(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        VersionOf(await RegisterWithKey(pipeline, "new", Version("s3://a/new.onnx")));

        await Host.Services.GetRequiredService<IdempotencyRetention>().PurgeAsync(CancellationToken.None);

        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var kept = (await session.Query<IdempotencyRecord>().ToListAsync()).Select(r => r.Key).ToList();
        Assert.Equal(["new"], kept);
        Assert.Equal(7, Host.Services.GetRequiredService<IdempotencySettings>().Retention.TotalDays);
    }

    [Fact]
    public async Task the_same_caller_through_two_api_nodes_appends_once()
    {
        await Host.RegisterModel("churn");
        var key = await Host.CreateKey("contributor:churn");
        var artifacts = Path.Combine(Path.GetTempPath(), $"esr-second-node-{Guid.NewGuid():N}");
        try
        {
            await using var secondNode = await ApiProcess.Start(new Dictionary<string, string?>
            {
                ["ConnectionStrings__Registry"] = App.ConnectionString,
                ["Registry__Artifacts__Directory"] = artifacts,
                ["Logging__LogLevel__Default"] = "Warning",
            }, TimeSpan.FromMinutes(2));
            using var here = Host.ClientWithKey(key.Key);
            using var there = new HttpClient { BaseAddress = secondNode.Client.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            there.DefaultRequestHeaders.Authorization = new("ApiKey", key.Key);

            for (var round = 0; round < 5; round++)
            {
                var body = Version($"s3://models/churn/round-{round}.onnx");
                var sends = await Task.WhenAll(
                    RegisterWithKey(here, $"round-{round}", body), RegisterWithKey(there, $"round-{round}", body),
                    RegisterWithKey(here, $"round-{round}", body), RegisterWithKey(there, $"round-{round}", body));
                Assert.All(sends, s => Assert.Equal(round + 1, VersionOf(s)));
            }
            Assert.Equal(6, await Store.StreamLength("churn"));
        }
        finally
        {
            if (Directory.Exists(artifacts)) Directory.Delete(artifacts, recursive: true);
        }
    }
}
