using Azure.Identity;
using Azure.Storage.Blobs;
using EventSourcedRegistry.Api.Hosting;
using System.Collections.Concurrent;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Artifacts;

/// <summary><c>Registry:Artifacts</c>: where artifact bytes are kept and how large an upload may be.</summary>
public sealed class ArtifactSettings
{
    public const string Section = "Registry:Artifacts";
    public const string FileSystem = "FileSystem";
    public const string AzureBlob = "AzureBlob";
    public const long DefaultMaxUploadBytes = 10L * 1024 * 1024 * 1024;

    /// <summary><c>FileSystem</c> (default) or <c>AzureBlob</c>.</summary>
    public string Backend { get; set; } = FileSystem;

    /// <summary>File system: the store's root; default <c>&lt;data directory&gt;/artifacts</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>Azure Blob: a storage connection string (account key or SAS; Azurite's too).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Azure Blob: the account's blob endpoint, authenticated with DefaultAzureCredential.</summary>
    public string? AccountUrl { get; set; }

    public string Container { get; set; } = "artifacts";

    public long MaxUploadBytes { get; set; } = DefaultMaxUploadBytes;

    /// <summary>Uploads one caller may have in progress at once (per API node); 0 lifts the limit.</summary>
    public int MaxConcurrentUploadsPerCaller { get; set; } = 4;

    /// <summary>The most bytes one workspace's artifacts may take; unset (the default) for no quota.</summary>
    public long? QuotaBytes { get; set; }

    public static ArtifactSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<ArtifactSettings>() ?? new ArtifactSettings();
        if (settings.MaxUploadBytes <= 0)
            throw new InvalidOperationException($"{Section}:MaxUploadBytes must be a positive number of bytes.");
        if (settings.MaxConcurrentUploadsPerCaller < 0)
            throw new InvalidOperationException($"{Section}:MaxConcurrentUploadsPerCaller must be 0 (no limit) or more.");
        if (settings.QuotaBytes is <= 0)
            throw new InvalidOperationException($"{Section}:QuotaBytes must be a positive number of bytes (leave it unset for no quota).");
        if (string.IsNullOrWhiteSpace(settings.Directory))
            settings.Directory = Path.Combine(RegistryDatabase.DataDirectory(configuration), "artifacts");
        return settings;
    }
}

public static class ArtifactsConfiguration
{
    /// <summary>
    /// Azurite (the emulator the tests use) accepts service versions up to this one; Azure accepts it too. Pinned
    /// so an SDK update cannot silently move to a version the emulator refuses.
    /// </summary>
    public const BlobClientOptions.ServiceVersion ServiceVersion = BlobClientOptions.ServiceVersion.V2026_06_06;

    /// <summary>
    /// The artifact stores, one per workspace, built from configuration when first needed (<see cref="ArtifactStores"/>);
    /// a request's <see cref="IArtifactStore"/> and <see cref="ArtifactAccess"/> are its workspace's, so an endpoint
    /// that takes them cannot reach another workspace's bytes.
    /// </summary>
    public static IServiceCollection AddArtifactStore(this IServiceCollection services)
    {
        services.AddSingleton(provider => ArtifactSettings.From(provider.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ArtifactStores>();
        services.AddScoped(provider => provider.GetRequiredService<ArtifactStores>().For(provider.GetRequiredService<WorkspaceStore>().Workspace));
        services.AddSingleton<ArtifactAccess>();
        services.AddSingleton<Uploading.ArtifactQuota>();
        return services;
    }

    public static IArtifactStore CreateStore(ArtifactSettings settings, WorkspaceId? workspace = null) =>
        CreateStore(settings, workspace ?? WorkspaceId.Default, settings.Backend.Equals(ArtifactSettings.AzureBlob, StringComparison.OrdinalIgnoreCase)
            ? ContainerClient(settings)
            : null);

    internal static IArtifactStore CreateStore(ArtifactSettings settings, WorkspaceId workspace, BlobContainerClient? container)
    {
        if (settings.Backend.Equals(ArtifactSettings.FileSystem, StringComparison.OrdinalIgnoreCase))
            return new FileSystemArtifactStore(settings.Directory!, workspace);
        if (settings.Backend.Equals(ArtifactSettings.AzureBlob, StringComparison.OrdinalIgnoreCase))
            return new AzureBlobArtifactStore(container ?? ContainerClient(settings), workspace);
        throw new InvalidOperationException(
            $"{ArtifactSettings.Section}:Backend is '{settings.Backend}'; use '{ArtifactSettings.FileSystem}' or '{ArtifactSettings.AzureBlob}'.");
    }

    internal static BlobContainerClient ContainerClient(ArtifactSettings settings)
    {
        var options = new BlobClientOptions(ServiceVersion);
        BlobServiceClient service;
        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
            service = new BlobServiceClient(settings.ConnectionString, options);
        else if (Uri.TryCreate(settings.AccountUrl, UriKind.Absolute, out var accountUrl))
            service = new BlobServiceClient(accountUrl, new DefaultAzureCredential(), options);
        else
            throw new InvalidOperationException(
                $"The AzureBlob artifact backend needs {ArtifactSettings.Section}:ConnectionString or {ArtifactSettings.Section}:AccountUrl.");
        return service.GetBlobContainerClient(settings.Container);
    }
}

/// <summary>
/// Each workspace's artifact store over the one configured backend (one folder, or one container and its client):
/// the <c>default</c> workspace's keys are those from before workspaces, any other's are under <c>ws/&lt;slug&gt;/</c>
/// (<see cref="ArtifactDigest.PrefixOf"/>). Built once per workspace and kept.
/// </summary>
public sealed class ArtifactStores
{
    private readonly ArtifactSettings _settings;
    private readonly BlobContainerClient? _container;
    private readonly ConcurrentDictionary<WorkspaceId, IArtifactStore> _stores = new();

    public ArtifactStores(ArtifactSettings settings)
    {
        _settings = settings;
        _container = settings.Backend.Equals(ArtifactSettings.AzureBlob, StringComparison.OrdinalIgnoreCase)
            ? ArtifactsConfiguration.ContainerClient(settings)
            : null;
        // A misconfigured backend fails here, at startup, not at the first upload.
        For(WorkspaceId.Default);
    }

    public IArtifactStore For(WorkspaceId workspace) =>
        _stores.GetOrAdd(workspace, w => ArtifactsConfiguration.CreateStore(_settings, w, _container));
}
