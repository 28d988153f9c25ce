using Alba;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>The artifacts API on the embedded default backend: files under the data directory.</summary>
public sealed class when_using_artifacts_on_the_file_system(AppFixture app, Xunit.Abstractions.ITestOutputHelper output)
    : ArtifactApiContract(app, output)
{
    protected override IAlbaHost Host => App.Host;

    protected override Task StartAsync() => Task.CompletedTask;

    protected override Task<List<string>> StoredNames()
    {
        var root = App.ArtifactsDirectory;
        var names = Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return Task.FromResult(names);
    }

    [Fact]
    public async Task the_openapi_document_lists_the_artifact_endpoints()
    {
        var document = await Host.Get("/openapi/v1.json");

        Assert.Equal(200, document.Status);
        var paths = document.Body!["paths"]!.AsObject();
        Assert.Contains("/api/v1/artifacts", paths.Select(p => p.Key));
        Assert.Contains("/api/v1/artifacts/{sha256}", paths.Select(p => p.Key));
        Assert.Contains("/api/v1/admin/artifacts/orphans", paths.Select(p => p.Key));
    }

    protected override Task Corrupt(string sha256, byte[] bytes)
    {
        var path = Path.Combine(App.ArtifactsDirectory, "sha256", sha256);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(path, bytes);
        return Task.CompletedTask;
    }
}
