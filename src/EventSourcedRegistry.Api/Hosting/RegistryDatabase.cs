namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// Where the registry's PostgreSQL is: <c>ConnectionStrings:Registry</c> when set, otherwise the embedded
/// default, a cluster started from the machine's PostgreSQL binaries in the data directory.
/// </summary>
public sealed class RegistryDatabase : IAsyncDisposable
{
    public const string ConnectionStringName = "Registry";

    private RegistryDatabase(string connectionString, EmbeddedPostgres? embedded)
    {
        ConnectionString = connectionString;
        Embedded = embedded;
    }

    public string ConnectionString { get; }
    public EmbeddedPostgres? Embedded { get; }

    public static async Task<RegistryDatabase> OpenAsync(IConfiguration configuration, ILogger logger, CancellationToken ct = default)
    {
        var configured = configuration.GetConnectionString(ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(configured)) return new RegistryDatabase(configured, null);

        var dataDirectory = DataDirectory(configuration);
        logger.LogInformation("No ConnectionStrings:Registry set: starting the embedded PostgreSQL in {DataDirectory}", dataDirectory);
        var embedded = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            DataDirectory = dataDirectory,
            BinDirectory = configuration["Registry:PostgresBinDirectory"],
        }, logger, ct);
        return new RegistryDatabase(embedded.ConnectionString, embedded);
    }

    public static string DataDirectory(IConfiguration configuration) =>
        configuration["Registry:DataDirectory"] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : EmbeddedPostgres.DefaultDataDirectory();

    public async ValueTask DisposeAsync()
    {
        if (Embedded is not null) await Embedded.DisposeAsync();
    }
}
