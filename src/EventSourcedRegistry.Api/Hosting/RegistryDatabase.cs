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

    /// <summary>
    /// <see cref="ConnectionString"/> with the pool settings the registry runs best with, each only when the
    /// configured string does not set it itself: <c>No Reset On Close</c> (a connection handed back to the pool is not
    /// sent <c>DISCARD ALL</c>, which costs a statement and throws away PostgreSQL's cached plans of Marten's functions,
    /// on every checkout; the registry sets no session state that would need resetting) and <c>Max Auto Prepare</c>
    /// (statements run often are prepared once per connection instead of parsed and planned on every call). And always
    /// <c>Timezone=UTC</c>: Marten stamps an event with <c>now() at time zone 'utc'</c> into a <c>timestamptz</c> column,
    /// which PostgreSQL reads in the session's time zone, so a session in any other zone would store every event's time
    /// shifted by its offset, and time travel by instant would answer for the wrong moment.
    /// And <c>plan_cache_mode=force_custom_plan</c> unless the string's <c>Options</c> set a plan cache mode: the event
    /// tables are partitioned per workspace and every statement on them names its workspace by a bound value. From a
    /// prepared statement's sixth run on a connection, PostgreSQL would build a generic plan of it, which covers (plans,
    /// and locks) every workspace's partition — about a second at 1,000 workspaces, per statement and connection — and
    /// then throw it away for being dearer than a custom plan, which is pruned to the one partition when it is planned
    /// (docs/benchmarks.md "Workspaces at scale", run 4).
    /// </summary>
    public string PooledConnectionString => Tune(ConnectionString);

    public const int MaxAutoPrepare = 64;
    public const string PlanCacheMode = "plan_cache_mode";
    public const string CustomPlans = "force_custom_plan";

    public static string Tune(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Has(params string[] keys) => keys.Any(given.ContainsKey);
        var tuned = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!Has("No Reset On Close", "NoResetOnClose")) tuned.NoResetOnClose = true;
        if (!Has("Max Auto Prepare", "MaxAutoPrepare")) tuned.MaxAutoPrepare = MaxAutoPrepare;
        tuned.Timezone = "UTC";
        if (tuned.Options?.Contains(PlanCacheMode, StringComparison.OrdinalIgnoreCase) != true)
            tuned.Options = $"{tuned.Options} -c {PlanCacheMode}={CustomPlans}".Trim();
        return tuned.ConnectionString;
    }
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
