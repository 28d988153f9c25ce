using Alba;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>
/// The artifacts API on the Azure Blob backend, against Azurite: a host of its own, configured as an operator
/// would (<c>Registry:Artifacts:Backend=AzureBlob</c> and a connection string), sharing the run's PostgreSQL.
/// </summary>
public sealed class when_using_artifacts_on_azure_blob_storage(AppFixture app, AzuriteFixture azurite, AzureArtifactHost host,
    Xunit.Abstractions.ITestOutputHelper output) : ArtifactApiContract(app, output), IClassFixture<AzureArtifactHost>
{
    protected override IAlbaHost Host => host.Host!;

    /// <summary>Six blocks: the in-memory emulator is far slower than Azure; 200 MB would take the suite's whole time budget.</summary>
    protected override long AcceptanceBytes => 48L * 1000 * 1000;

    protected override async Task StartAsync()
    {
        await host.StartAsync(App, azurite);
        await foreach (var blob in host.Container!.GetBlobsAsync(new GetBlobsOptions()))
            await host.Container.DeleteBlobIfExistsAsync(blob.Name);
    }

    protected override async Task<List<string>> StoredNames()
    {
        var names = new List<string>();
        await foreach (var blob in host.Container!.GetBlobsAsync(new GetBlobsOptions())) names.Add(blob.Name);
        return names.Order(StringComparer.Ordinal).ToList();
    }

    protected override async Task Corrupt(string sha256, byte[] bytes) =>
        await host.Container!.GetBlobClient($"sha256/{sha256}").UploadAsync(new BinaryData(bytes), overwrite: true);
}

/// <summary>One Azure-configured app host for the test class, started on first use, with a container of its own.</summary>
public sealed class AzureArtifactHost : IAsyncLifetime
{
    private readonly SemaphoreSlim _starting = new(1, 1);

    public IAlbaHost? Host { get; private set; }
    public BlobContainerClient? Container { get; private set; }

    public async Task StartAsync(AppFixture app, AzuriteFixture azurite)
    {
        await _starting.WaitAsync();
        try
        {
            if (Host is not null) return;
            Container = await azurite.CreateContainerAsync("api");
            // On the collection's database (the other collection's cluster may be the one the environment names).
            Host = await HostStarts.On(app.ConnectionString, () => AlbaHost.For<Program>(builder => builder
                .UseSetting("Logging:LogLevel:Default", "Warning")
                .UseSetting("Registry:Artifacts:Backend", "AzureBlob")
                .UseSetting("Registry:Artifacts:ConnectionString", azurite.ConnectionString)
                .UseSetting("Registry:Artifacts:Container", Container.Name)
                // The contract sends uploads faster than the default per-caller limits allow; LimitedHost tests those.
                .UseSetting("Registry:RateLimits:Enabled", "false")
                .UseSetting("Registry:Artifacts:MaxConcurrentUploadsPerCaller", "0")));
        }
        finally
        {
            _starting.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
    }
}
