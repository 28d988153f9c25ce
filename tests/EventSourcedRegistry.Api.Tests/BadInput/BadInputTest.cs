using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Base of the bad-input matrix: every refusal is a 4xx ProblemDetails and leaves the registry exactly as it
/// was (no event in any stream, every model's ETag the same).
/// </summary>
public abstract class BadInputTest(AppFixture app) : ApiTest(app)
{
    public const string Churn = "churn";

    /// <summary>A well-formed sha256: 64 hexadecimal digits.</summary>
    public const string A64 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    /// <summary>A valid version body: an external artifact with its declared digest.</summary>
    public const string VersionBody =
        $$$"""{"artifact":{"uri":"s3://models/churn/model.onnx","sha256":"{{{A64}}}","sizeBytes":1234}}""";

    /// <summary>Sends <paramref name="call"/> ("METHOD /path") with a raw JSON body, or no body when it is null.</summary>
    protected Task<RegistryCalls.Response> Call(string call, string? body = null, IDictionary<string, string>? headers = null)
    {
        var space = call.IndexOf(' ');
        return Host.Send(new HttpMethod(call[..space]), call[(space + 1)..], headers: headers, rawBody: body);
    }

    /// <summary>Sends the request and asserts it is refused with <paramref name="status"/> and appends nothing.</summary>
    protected async Task<JsonObject> Refused(int status, Func<Task<RegistryCalls.Response>> send, string? errorField = null)
    {
        var before = await RegistrySnapshot.Take(Host, Store);
        var response = await send();
        var problem = response.AssertProblem(status, errorField);
        await before.AssertUnchanged(Host, Store);
        return problem;
    }

    protected Task<JsonObject> Refused(int status, string call, string? body = null, string? errorField = null,
        IDictionary<string, string>? headers = null) =>
        Refused(status, () => Call(call, body, headers), errorField);

    /// <summary>Model <c>churn</c> with <paramref name="versions"/> versions.</summary>
    protected async Task GivenChurn(int versions = 0)
    {
        await Host.RegisterModel(Churn);
        for (var i = 0; i < versions; i++) await Host.RegisterVersion(Churn);
    }

    /// <summary>Model <c>churn</c> with version 1, alias <c>champion</c> → 1, then archived.</summary>
    protected async Task GivenArchivedChurn()
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, $"/api/v1/models/{Churn}/aliases/champion", new { version = 1 })).Status);
        Assert.Equal(200, (await Host.Post($"/api/v1/models/{Churn}/archive", new { })).Status);
    }
}

/// <summary>Model names that break the naming rule, as JSON string contents so theory names stay printable.</summary>
public static class BadNames
{
    public static TheoryData<string> All => new()
    {
        "",
        new string('a', 129),
        "team/churn",
        "churn..v2",
        "..",
        "churn model",
        " churn",
        "churn ",
        "churn\\tmodel",
        "churn\\nmodel",
        "churn\\u0001model",
        "churn\\u007fmodel",
        "churn\\u0000model",
        "churn\\u00a0model",
        ".churn",
        "-churn",
        "churn?v=1",
    };
}
