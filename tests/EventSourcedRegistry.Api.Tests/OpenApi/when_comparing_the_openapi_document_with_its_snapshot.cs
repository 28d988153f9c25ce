using EventSourcedRegistry.Api.Tests.Samples;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.OpenApi;

/// <summary>
/// The served document is the wire contract: any change to it (a renamed field, a dropped status, a new route) fails here
/// until docs/openapi/v1.json is regenerated deliberately and reviewed with the CHANGELOG.
/// </summary>
public sealed class when_comparing_the_openapi_document_with_its_snapshot(AppFixture app) : ApiTest(app)
{
    /// <summary>Set to 1 to rewrite the committed document from the served one (CI never sets it).</summary>
    public const string UpdateVariable = "ESR_UPDATE_OPENAPI";

    public static string SnapshotPath => Path.Combine(WalkthroughRegistry.RepositoryRoot, "docs", "openapi", "v1.json");

    [Fact]
    public async Task the_served_document_equals_the_committed_one()
    {
        var served = await OpenApiDocument.ServedText(Host);

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(SnapshotPath)!);
            await File.WriteAllTextAsync(SnapshotPath, served);
        }

        var committed = File.Exists(SnapshotPath) ? (await File.ReadAllTextAsync(SnapshotPath)).ReplaceLineEndings("\n") : "";
        if (committed == served) return;

        var servedLines = served.Split('\n');
        var committedLines = committed.Split('\n');
        var first = Enumerable.Range(0, Math.Max(servedLines.Length, committedLines.Length))
            .First(i => i >= servedLines.Length || i >= committedLines.Length || servedLines[i] != committedLines[i]);
        Assert.Fail($"""
            The served OpenAPI document differs from docs/openapi/v1.json, first at line {first + 1}:
              committed: {(first < committedLines.Length ? committedLines[first].Trim() : "(end of file)")}
              served:    {(first < servedLines.Length ? servedLines[first].Trim() : "(end of document)")}
            If the change to the API is deliberate, regenerate the file and review the diff (and add a CHANGELOG entry):
              {UpdateVariable}=1 dotnet test tests/EventSourcedRegistry.Api.Tests --filter "FullyQualifiedName~when_comparing_the_openapi_document_with_its_snapshot"
            """);
    }
}
