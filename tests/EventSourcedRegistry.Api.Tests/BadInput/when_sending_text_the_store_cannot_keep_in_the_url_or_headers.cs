using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Regression (security review of issue 13 item 2(a)): the JSON door checked bodies only, so a NUL in a query value
/// reached PostgreSQL, which cannot store or compare NUL in text: 500 (22P05) on the audit query, the model list, the
/// deployment history, and on the DELETEs that take <c>?reason=</c> (an API key's revocation was rolled back). The
/// same for an <c>X-Correlation-Id</c> or <c>Idempotency-Key</c> (stored with the events) holding NUL or an unpaired
/// surrogate. Now one door in front of every route refuses such a value with 400 naming it, and appends nothing.
/// </summary>
public sealed class when_sending_text_the_store_cannot_keep_in_the_url_or_headers(AppFixture app) : BadInputTest(app)
{
    public static TheoryData<string, string> NulInAQuery => new()
    {
        { "GET /api/v1/audit?actor=%00", "actor" },
        { "GET /api/v1/audit?model=%00", "model" },
        { "GET /api/v1/models?prefix=%00", "prefix" },
        { "GET /api/v1/models?tag=%00:x", "tag" },
        { "GET /api/v1/models/churn/deployments?stage=%00", "stage" },
        { "GET /api/v1/models/churn/deployments?environment=%00", "environment" },
        { "GET /api/v1/models/churn/versions?stage=None%00", "stage" },
        { "DELETE /api/v1/models/churn/aliases/champion?reason=a%00b", "reason" },
        { "DELETE /api/v1/models/churn/metadata-schema?reason=a%00b", "reason" },
        { "DELETE /api/v1/registry/metadata-schema?reason=a%00b", "reason" },
        { "POST /api/v1/models/churn/archive?reason=a%00b", "reason" },
        { "GET /api/v1/models/churn?asOf=%00", "asOf" },
        { "GET /api/v1/models?%00=x", "\\u0000" },
    };

    [Theory]
    [MemberData(nameof(NulInAQuery))]
    public async Task a_nul_in_a_query_value_is_refused_with_400_naming_the_parameter(string call, string field)
    {
        await GivenChurnWithAnAliasAndSchemas();
        var problem = await Refused(400, call, errorField: field);
        Assert.Contains("NUL", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_key_revoked_with_a_nul_in_its_reason_is_refused_and_stays_active()
    {
        var key = await Host.CreateKey("reader");
        await Refused(400, $"DELETE /api/v1/admin/keys/{key.Id}?reason=a%00b", errorField: "reason");

        Assert.Equal(200, (await Host.ClientWithKey(key.Key).Send(HttpMethod.Get, "/api/v1/models")).Status);
        Assert.Equal(200, (await Call($"DELETE /api/v1/admin/keys/{key.Id}?reason=rotated")).Status);
        Assert.Equal(401, (await Host.ClientWithKey(key.Key).Send(HttpMethod.Get, "/api/v1/models")).Status);
    }

    [Theory]
    [InlineData("GET /api/v1/models?prefix=%FF", "prefix")]
    [InlineData("GET /api/v1/audit?actor=%ED%A0%80", "actor")]
    [InlineData("DELETE /api/v1/models/churn/aliases/champion?reason=%C0%AF", "reason")]
    public async Task a_query_value_percent_encoding_bytes_that_are_not_utf8_is_refused_with_400(string call, string field)
    {
        await GivenChurnWithAnAliasAndSchemas();
        var problem = await Refused(400, call, errorField: field);
        Assert.Contains("UTF-8", problem["detail"]!.GetValue<string>());
    }

    /// <summary>Header values as C# escapes: xUnit would turn an unpaired surrogate in theory data into U+FFFD.</summary>
    public static TheoryData<string, string, string> BadHeaders()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var header in new[] { CommandContext.CorrelationHeader, Idempotent.Header })
        foreach (var value in new[] { @"a\u0000b", @"a\u0001b", @"a\tb", @"a\u007fb", @"a\ud800b", @"\udfff" })
        {
            data.Add("POST /api/v1/models/churn/versions/1/stage", header, value);
            data.Add("POST /api/v1/admin/keys", header, value);
        }
        data.Add("GET /api/v1/models", CommandContext.CorrelationHeader, @"a\u0000b");
        data.Add("POST /api/v1/models/churn/versions/1/stage", "X-Api-Key", @"esr_a\u0000b_secret");
        data.Add("POST /api/v1/models/churn/versions/1/stage", "Authorization", @"ApiKey esr_a\ud800b_secret");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public async Task a_stored_header_with_a_control_character_or_a_looked_up_header_with_nul_is_refused_with_400(string call, string header, string escaped)
    {
        await GivenChurnWithAnAliasAndSchemas();
        var value = Regex.Unescape(escaped);
        var body = call.Contains("/stage", StringComparison.Ordinal)
            ? """{"stage":"Staging"}"""
            : call.StartsWith("POST", StringComparison.Ordinal) ? $$"""{"name":"ci-{{Guid.NewGuid():N}}","owner":"ci","grants":[{"role":"reader"}]}""" : null;
        await Refused(400, call, body, errorField: header, headers: new Dictionary<string, string> { [header] = value });
    }

    [Fact]
    public async Task a_printable_correlation_id_and_idempotency_key_still_pass()
    {
        await GivenChurn(versions: 1);
        var headers = new Dictionary<string, string> { [CommandContext.CorrelationHeader] = "run-42 =x", [Idempotent.Header] = "key 1" };
        var moved = await Call("POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging"}""", headers);
        Assert.True(moved.Status == 200, $"{moved.Status} {moved.Body}");
        Assert.Equal("run-42 =x", moved.Header(CommandContext.CorrelationHeader));
    }

    /// <summary>
    /// Route values cannot carry NUL through Kestrel (it refuses such a path) or the test server (it will not send
    /// one), so the door's rule for them is shown on the request itself: another server, or a future door that
    /// routes differently, gets the same refusal.
    /// </summary>
    [Fact]
    public void a_route_value_with_nul_or_an_unpaired_surrogate_is_named()
    {
        var http = new DefaultHttpContext();
        http.Request.RouteValues["name"] = "churn";
        http.Request.RouteValues["alias"] = "a\u0000b";
        Assert.Equal("alias", CanonicalRequestText.Problem(http.Request)?.Field);

        http.Request.RouteValues["alias"] = "a\ud800";
        Assert.Equal("alias", CanonicalRequestText.Problem(http.Request)?.Field);

        http.Request.RouteValues["alias"] = "champion 😀";
        Assert.Null(CanonicalRequestText.Problem(http.Request));
    }

    /// <summary>Model churn with version 1, alias champion → 1, and a metadata schema on the model and the registry.</summary>
    private async Task GivenChurnWithAnAliasAndSchemas()
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 })).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/metadata-schema", new { schema = new { type = "object" } })).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/registry/metadata-schema", new { schema = new { type = "object" } })).Status);
    }
}
