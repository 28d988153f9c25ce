using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedRegistry.Api.Hosting;

public sealed record EmbeddedPostgresOptions
{
    /// <summary>The cluster lives in <c>DataDirectory/postgres</c>; the password file and other app files sit beside it.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Directory holding <c>initdb</c> and <c>postgres</c>; discovered when null.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>False turns off fsync, synchronous_commit and full_page_writes: only for throwaway test clusters.</summary>
    public bool Durable { get; init; } = true;

    public string Database { get; init; } = "registry";

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>Thrown when no PostgreSQL server binaries can be found for the embedded default.</summary>
public sealed class PostgresBinariesNotFoundException : Exception
{
    public PostgresBinariesNotFoundException()
        : this(searchedDirectory: null)
    {
    }

    public PostgresBinariesNotFoundException(string? searchedDirectory)
        : base(
            "No PostgreSQL server binaries (initdb and postgres) were found"
            + (searchedDirectory is null ? "" : $" in '{searchedDirectory}'")
            + ": install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; or point REGISTRY_POSTGRES_BIN at its bin directory)"
            + " or set ConnectionStrings__Registry to an existing PostgreSQL.")
    {
    }
}

/// <summary>
/// A PostgreSQL server run from the machine's installed binaries as a child process, with its cluster in a
/// persistent data directory. As root the server runs as the <c>postgres</c> OS user, because PostgreSQL refuses root.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string SuperUser = "registry";

    /// <summary>
    /// The file in the data directory whose exclusive lock an instance holds from reading the cluster's
    /// <c>postmaster.pid</c> until its server runs (or it adopted another's).
    /// </summary>
    public const string StartLockFileName = "postgres-start.lock";
    private const string ServiceUser = "postgres";
    private const string ClusterFolder = "postgres";
    private const string PasswordFileName = "postgres-password";
    private const string InitdbPasswordPrefix = ".initdb-password-";
    private const int SigInt = 2;
    private const int SigQuit = 3;
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int Esrch = 3;
    private const int Eperm = 1;
    private const int MaxPortAttempts = 4;
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromMinutes(10);

    private readonly ILogger _logger;
    private readonly Runner _runner;
    private readonly EmbeddedPostgresOptions _options;
    private readonly string _clusterDirectory;
    private readonly string _password;
    // Held while the server is replaced after a crash and while it is stopped, so the two never interleave.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _process;
    private volatile bool _ownsServer;
    private volatile int _serverProcessId;
    private EventHandler? _onProcessExit;
    private int _stopped;

    private EmbeddedPostgres(Runner runner, EmbeddedPostgresOptions options, string clusterDirectory, string password, int port,
        int serverProcessId, Process? process, bool ownsServer)
    {
        _runner = runner;
        _options = options;
        _clusterDirectory = clusterDirectory;
        _password = password;
        ConnectionString = BuildConnectionString(port, password, options.Database, pooling: true);
        Port = port;
        _serverProcessId = serverProcessId;
        _process = process;
        _ownsServer = ownsServer;
        _logger = runner.Logger;
        // Stop an owned server with the app even when nobody disposes this instance (adopted ones are left running).
        _onProcessExit = (_, _) => DisposeAsync().AsTask().GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += _onProcessExit;
    }

    /// <summary>Npgsql connection string to <see cref="EmbeddedPostgresOptions.Database"/>.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's port; a server restarted after a crash gets the same one, so connection strings stay valid.</summary>
    public int Port { get; }

    /// <summary>PID of the postmaster (not of the runuser/setsid wrapper that may sit between).</summary>
    public int ServerProcessId => _serverProcessId;

    /// <summary>False when an earlier, crashed app instance left the server running and this instance adopted it.</summary>
    public bool OwnsServer => _ownsServer;

    /// <summary>
    /// True while the postmaster this instance started or adopted runs. A process check, not a query: cheap enough to
    /// poll every second, and it tells a dead server (restart it) from a busy one (leave it alone).
    /// </summary>
    public bool IsRunning
    {
        get
        {
            var pid = _serverProcessId;
            return Volatile.Read(ref _stopped) == 0 && IsAlive(pid) && IsPostmasterOf(pid, _clusterDirectory);
        }
    }

    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, ILogger? logger = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = logger ?? NullLogger.Instance;
        var binDirectory = ResolveBinDirectory(options.BinDirectory);
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var clusterDirectory = Path.Combine(dataDirectory, ClusterFolder);
        var runner = new Runner(binDirectory, dataDirectory, RunAsServiceUser: IsRoot(), log);

        await PrepareDataDirectoryAsync(runner, ct);
        var initialized = File.Exists(Path.Combine(clusterDirectory, "PG_VERSION"));
        var password = await ReadOrCreatePasswordAsync(dataDirectory, clusterDirectory, initialized, ct);
        if (!initialized)
            await InitClusterAsync(runner, clusterDirectory, password, options, ct);

        EmbeddedPostgres server;
        var clock = Stopwatch.StartNew();
        using (await AcquireStartLockAsync(dataDirectory, options.StartTimeout, log, ct))
        {
            for (var attempt = 1; ; attempt++)
            {
                var existing = await FindRunningServerAsync(clusterDirectory, password, options.StartTimeout, log, ct);
                if (existing.Port is { } adoptedPort)
                {
                    log.LogWarning(
                        "Reusing the PostgreSQL server (PID {Pid}, port {Port}) in {Directory} started by another app instance; this instance will not stop it",
                        existing.Pid, adoptedPort, clusterDirectory);
                    server = new EmbeddedPostgres(runner, options, clusterDirectory, password, adoptedPort, existing.Pid, process: null, ownsServer: false);
                    break;
                }

                try
                {
                    var launched = await LaunchAsync(runner, clusterDirectory, password, options, existing.StaleLockPid, fixedPort: null, ct);
                    server = new EmbeddedPostgres(runner, options, clusterDirectory, password, launched.Port, launched.Pid, launched.Process, ownsServer: true);
                    break;
                }
                catch (ServerExitedException e) when (LostStartRace(e) && (attempt < MaxPortAttempts || clock.Elapsed < options.StartTimeout))
                {
                    // A postmaster launched outside the start lock (an older build's instance) took PostgreSQL's lock first,
                    // or the lock file names a killed postmaster not yet reaped: adopt the one, wait out the other.
                    log.LogDebug("Another postmaster took the lock of {Directory} first; adopting it", clusterDirectory);
                    await Task.Delay(100, ct);
                }
            }
        }

        try
        {
            await EnsureDatabaseAsync(server.Port, password, options.Database, ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        log.LogInformation("Embedded PostgreSQL ready on 127.0.0.1:{Port}, data in {Directory}", server.Port, clusterDirectory);
        return server;
    }

    /// <summary>Finds a directory containing <c>initdb</c> and <c>postgres</c>; null if there is none.</summary>
    public static string? FindBinDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("REGISTRY_POSTGRES_BIN");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return HasServerBinaries(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : null;

        // Newest installed version wins across the well-known package locations.
        var candidates = new List<(Version Version, string Directory)>();
        AddVersioned(candidates, "/usr/lib/postgresql", "", dir => Path.Combine(dir, "bin"));
        AddVersioned(candidates, "/usr", "pgsql-", dir => Path.Combine(dir, "bin"));
        AddVersioned(candidates, "/opt/homebrew/opt", "postgresql", dir => Path.Combine(dir, "bin"));
        AddVersioned(candidates, "/usr/local/opt", "postgresql", dir => Path.Combine(dir, "bin"));
        var found = candidates
            .OrderByDescending(c => c.Version)
            .Select(c => c.Directory)
            .Append("/usr/local/pgsql/bin")
            .FirstOrDefault(HasServerBinaries);
        if (found is not null)
            return found;

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(HasServerBinaries);
    }

    public static string DefaultDataDirectory()
    {
        // /root is mode 700, so the postgres user could not reach a cluster under root's home.
        if (IsRoot())
            return "/var/lib/event-sourced-registry";

        // DoNotVerify: on a fresh account ~/.local/share may not exist yet, and the default option then returns "".
        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(local)
            ? throw new InvalidOperationException("There is no local application data folder (is HOME set?); set Registry__DataDirectory.")
            : Path.Combine(local, "EventSourcedRegistry");
    }

    /// <summary>What <see cref="EnsureRunningAsync"/> did about a postmaster that was gone.</summary>
    /// <param name="LostPid">The postmaster that was gone.</param>
    /// <param name="Pid">The postmaster now serving the cluster.</param>
    /// <param name="Adopted">True when another app instance on the same data directory had started it first.</param>
    public sealed record Recovery(int LostPid, int Pid, bool Adopted, TimeSpan Took);

    /// <summary>
    /// Brings the server back when its postmaster is gone (killed, crashed): adopts the postmaster that another app
    /// instance on the same data directory already restarted, or starts one on the same port, so every connection
    /// string handed out stays valid. PostgreSQL replays its write-ahead log (crash recovery) before it accepts
    /// connections, with the durable settings of the first start, so every committed transaction is there again.
    /// Returns null when the server runs; throws when it cannot come back yet (e.g. the dead server's backends still
    /// hold its shared memory, or the port is taken), and the caller tries again.
    /// </summary>
    public async Task<Recovery?> EnsureRunningAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _stopped) != 0, this);
            if (IsRunning)
                return null;

            var lost = _serverProcessId;
            var clock = Stopwatch.StartNew();
            // Another instance may be replaying the WAL under the start lock: wait as long as a recovery may take.
            using var startLock = await AcquireStartLockAsync(_runner.DataDirectory, Max(_options.StartTimeout, RecoveryTimeout), _logger, ct);
            for (var attempt = 1; ; attempt++)
            {
                var existing = await FindRunningServerAsync(_clusterDirectory, _password, _options.StartTimeout, _logger, ct);
                if (existing.Port is { } port)
                {
                    // The same postmaster after all (the process check raced with a lock-file update): nothing to do.
                    if (existing.Pid == lost)
                        return null;
                    if (port != Port)
                        throw new InvalidOperationException(
                            $"The PostgreSQL server of '{_clusterDirectory}' was restarted by another app instance on port {port}, but this "
                            + $"instance's connections point at port {Port}; restart this instance to use it.");
                    ReplaceServer(process: null, existing.Pid, ownsServer: false);
                    return new Recovery(lost, existing.Pid, Adopted: true, clock.Elapsed);
                }

                try
                {
                    // Crash recovery replays the WAL written since the last checkpoint: allow it more than a cold start.
                    var options = _options with { StartTimeout = Max(_options.StartTimeout, RecoveryTimeout) };
                    var launched = await LaunchAsync(_runner, _clusterDirectory, _password, options, existing.StaleLockPid, fixedPort: Port, ct);
                    ReplaceServer(launched.Process, launched.Pid, ownsServer: true);
                    return new Recovery(lost, launched.Pid, Adopted: false, clock.Elapsed);
                }
                catch (ServerExitedException e) when (LostStartRace(e) && (attempt < MaxPortAttempts || clock.Elapsed < _options.StartTimeout))
                {
                    // As on a first start: a postmaster launched outside the start lock won, or a killed one is not yet
                    // reaped. PostgreSQL's own lock file makes sure only one postmaster ever runs on the cluster.
                    _logger.LogDebug("Another postmaster took the lock of {Directory} first; adopting it", _clusterDirectory);
                    await Task.Delay(100, ct);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Lets app instances on one data directory take turns from reading the cluster's lock file to a running server.
    /// PostgreSQL's own lock file is not enough: two postmasters that read the same stale <c>postmaster.pid</c> (its
    /// PID gone) may both unlink it, the second after the first wrote its own, and the first then shuts down for
    /// want of its lock file (CI met this when two instances restarted a killed server at once); and the instance
    /// that removes a lock file naming a recycled PID must not race another doing the same. Only an instance that
    /// launches a postmaster needs the turn; the others adopt the server once they get it. The lock is an exclusive
    /// flock on Unix (what .NET takes for <see cref="FileShare.None"/>) and a sharing lock on Windows; the kernel
    /// releases it when its holder dies, so a killed instance never blocks the next start.
    /// </summary>
    private static async Task<IDisposable?> AcquireStartLockAsync(string dataDirectory, TimeSpan timeout, ILogger logger, CancellationToken ct)
    {
        var path = Path.Combine(dataDirectory, StartLockFileName);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (UnauthorizedAccessException e)
            {
                // A data directory this user may not write: PostgreSQL's lock file still keeps a second postmaster out.
                logger.LogWarning(e, "Cannot lock {Path}; starting PostgreSQL without taking turns with other app instances", path);
                return null;
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                // Held by another instance (a sharing violation): it is starting or restarting the server.
                await Task.Delay(100, ct);
            }
            catch (IOException e)
            {
                throw new TimeoutException(
                    $"Another app instance has been starting the PostgreSQL server of '{dataDirectory}' for longer than {timeout} (it holds '{path}').", e);
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// True when the postmaster refused to start because another one holds, or is just taking, the cluster's lock:
    /// "already exists" once the winner has written its lock file, "is empty" while it has created the file and not yet
    /// written it. The second also describes an empty file left by a postmaster that crashed in that instant; then the
    /// retries run out after the start timeout and the caller gets PostgreSQL's own message.
    /// </summary>
    private static bool LostStartRace(ServerExitedException e) =>
        e.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("\"postmaster.pid\" is empty", StringComparison.OrdinalIgnoreCase);

    private void ReplaceServer(Process? process, int pid, bool ownsServer)
    {
        // The old handle belongs to a process that is gone (runuser exits with its postmaster).
        _process?.Dispose();
        _process = process;
        _serverProcessId = pid;
        _ownsServer = ownsServer;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        if (_onProcessExit is not null)
            AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;

        // A restart in progress finishes (or is cancelled) first, so the server it starts is the one stopped here.
        var gated = await _gate.WaitAsync(ShutdownTimeout);
        try
        {
            if (!_ownsServer)
            {
                _logger.LogWarning("Leaving the adopted PostgreSQL server (PID {Pid}) running", ServerProcessId);
                return;
            }

            await StopAsync(_process!, ServerProcessId, _logger);
        }
        finally
        {
            if (gated)
                _gate.Release();
        }
    }

    // ---- discovery -------------------------------------------------------------------------------------------

    private static string ResolveBinDirectory(string? configured)
    {
        if (configured is not null)
            return HasServerBinaries(configured) ? Path.GetFullPath(configured) : throw new PostgresBinariesNotFoundException(configured);

        var fromEnvironment = Environment.GetEnvironmentVariable("REGISTRY_POSTGRES_BIN");
        if (!string.IsNullOrWhiteSpace(fromEnvironment) && !HasServerBinaries(fromEnvironment))
            throw new PostgresBinariesNotFoundException(fromEnvironment);

        return FindBinDirectory() ?? throw new PostgresBinariesNotFoundException();
    }

    private static bool HasServerBinaries(string directory) =>
        File.Exists(Path.Combine(directory, ExecutableName("initdb"))) && File.Exists(Path.Combine(directory, ExecutableName("postgres")));

    private static string ExecutableName(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;

    private static void AddVersioned(List<(Version, string)> candidates, string root, string prefix, Func<string, string> binOf)
    {
        if (!Directory.Exists(root))
            return;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(root, prefix + "*"))
                candidates.Add((ParseVersion(Path.GetFileName(dir)[prefix.Length..]), binOf(dir)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable location simply offers no candidates.
        }
    }

    // "15", "9.6", "@16", "16.2" -> version; unversioned names (Homebrew's "postgresql") rank lowest.
    private static Version ParseVersion(string text)
    {
        var digits = new string(text.TrimStart('@', '-').TakeWhile(c => char.IsAsciiDigit(c) || c == '.').ToArray());
        var parts = digits.Split('.', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .ToArray();
        return parts.Length switch
        {
            0 => new Version(0, 0),
            1 => new Version(parts[0], 0),
            _ => new Version(parts[0], parts[1]),
        };
    }

    // ---- data directory, password, initdb -----------------------------------------------------------------------

    private static async Task PrepareDataDirectoryAsync(Runner runner, CancellationToken ct)
    {
        var dataDirectory = runner.DataDirectory;
        var created = !Directory.Exists(dataDirectory);
        Directory.CreateDirectory(dataDirectory);
        if (!runner.RunAsServiceUser || OperatingSystem.IsWindows())
            return;

        // The postgres user only needs to traverse the data directory (the cluster below it is its own), not list it.
        const UnixFileMode traverse = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var mode = File.GetUnixFileMode(dataDirectory);
        if (created)
            File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead | traverse);
        else if ((mode & UnixFileMode.OtherExecute) == 0)
            File.SetUnixFileMode(dataDirectory, mode | traverse);

        // Parents are not ours to loosen: name the blocking one instead. Mode bits are only a hint (the dir may be
        // owned by postgres or carry ACLs), so a real access check as the service user decides.
        string? blocking = null;
        foreach (var ancestor in Ancestors(dataDirectory))
        {
            if ((File.GetUnixFileMode(ancestor) & UnixFileMode.OtherExecute) == 0)
            {
                blocking = ancestor;
                break;
            }
        }

        if (blocking is not null && await runner.RunAsync("test", ["-x", dataDirectory], asServiceUser: true, TimeSpan.FromSeconds(30), ct) != 0)
            throw new InvalidOperationException(
                $"The PostgreSQL server runs as the '{ServiceUser}' OS user, which cannot traverse '{blocking}' to reach '{dataDirectory}'; "
                + $"choose a data directory outside it (Registry__DataDirectory) or allow traversal (chmod o+x '{blocking}').");
    }

    private static IEnumerable<string> Ancestors(string directory)
    {
        for (var dir = Path.GetDirectoryName(directory); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            yield return dir;
    }

    private static async Task<string> ReadOrCreatePasswordAsync(string dataDirectory, string clusterDirectory, bool initialized, CancellationToken ct)
    {
        var path = Path.Combine(dataDirectory, PasswordFileName);
        if (File.Exists(path))
            return (await File.ReadAllTextAsync(path, ct)).Trim();
        if (initialized)
            throw new InvalidOperationException(
                $"The PostgreSQL cluster in '{clusterDirectory}' exists but its password file '{path}' is missing; restore the file, or move the cluster away to create a new one.");

        // Hex keeps the password free of characters that need quoting in connection strings or files.
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var temporary = path + "." + Guid.NewGuid().ToString("N");
        await WritePrivateFileAsync(temporary, password, ct);
        try
        {
            // Move without overwrite: if another instance won the race, its password is the one initdb will use.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return (await File.ReadAllTextAsync(path, ct)).Trim();
        }

        return password;
    }

    private static async Task WritePrivateFileAsync(string path, string content, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(content.AsMemory(), ct);
    }

    private static async Task InitClusterAsync(Runner runner, string clusterDirectory, string password, EmbeddedPostgresOptions options, CancellationToken ct)
    {
        runner.Logger.LogInformation("Creating a PostgreSQL cluster in {Directory}", clusterDirectory);
        if (Directory.Exists(clusterDirectory))
        {
            if (Directory.EnumerateFileSystemEntries(clusterDirectory).Any())
                throw new InvalidOperationException(
                    $"'{clusterDirectory}' exists but holds no PostgreSQL cluster (no PG_VERSION); move it away so a new cluster can be created.");
            Directory.Delete(clusterDirectory);
        }

        // initdb works in a staging directory that is renamed into place on success, so an interrupted initdb
        // (app killed, disk full) never leaves a half-made cluster that looks complete. Leftovers of one go first.
        var staging = clusterDirectory + ".initdb";
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
        foreach (var leftover in Directory.EnumerateFiles(runner.DataDirectory, InitdbPasswordPrefix + "*"))
            File.Delete(leftover);

        Directory.CreateDirectory(staging);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // initdb reads the password from a file; it sits in the data directory, which the service user can traverse.
        var passwordFile = Path.Combine(runner.DataDirectory, InitdbPasswordPrefix + Guid.NewGuid().ToString("N"));
        await WritePrivateFileAsync(passwordFile, password, ct);
        try
        {
            if (runner.RunAsServiceUser)
                await runner.RunCheckedAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", staging, passwordFile], asServiceUser: false, options.StartTimeout, ct);

            List<string> arguments =
            [
                "-D", staging, "-U", SuperUser, "--auth=scram-sha-256", $"--pwfile={passwordFile}",
                "-E", "UTF8", "--locale=C",
            ];
            if (!options.Durable)
                arguments.Add("--no-sync");
            await runner.RunCheckedAsync(
                Path.Combine(runner.BinDirectory, ExecutableName("initdb")), arguments, runner.RunAsServiceUser, options.StartTimeout, ct);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        // A cluster records no absolute path of its own, so it can be renamed while stopped.
        Directory.Move(staging, clusterDirectory);
    }

    // ---- an earlier instance's server ------------------------------------------------------------------------------

    private readonly record struct RunningServer(int? Port, int Pid, int? StaleLockPid);

    private static async Task<RunningServer> FindRunningServerAsync(
        string clusterDirectory, string password, TimeSpan timeout, ILogger logger, CancellationToken ct)
    {
        var lockFile = ReadLockFile(clusterDirectory);
        if (lockFile is not { } found)
            return default;
        if (!IsAlive(found.Pid))
        {
            // PostgreSQL recognises and replaces a lock file whose PID is dead.
            logger.LogDebug("Ignoring stale postmaster.pid (PID {Pid} is gone)", found.Pid);
            return default;
        }

        if (!IsPostmasterOf(found.Pid, clusterDirectory))
            return new RunningServer(null, 0, StaleLockPid: found.Pid);

        // A live postmaster for this cluster: an earlier instance crashed without stopping it. It may still be
        // starting or shutting down, so wait until it either answers or goes away.
        var connectionString = BuildConnectionString(found.Port, password, "postgres", pooling: false);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await QueryOnceAsync(connectionString, ct);
                return new RunningServer(found.Port, found.Pid, null);
            }
            catch (PostgresException e) when (IsAuthenticationFailure(e))
            {
                throw PasswordMismatch(clusterDirectory, e);
            }
            catch (NpgsqlException) when (!ct.IsCancellationRequested)
            {
                if (!IsAlive(found.Pid))
                    return default;
                if (clock.Elapsed > timeout)
                    throw new TimeoutException(
                        $"A PostgreSQL server (PID {found.Pid}) is running in '{clusterDirectory}' but did not answer on port {found.Port} within {timeout}.");
            }

            await Task.Delay(200, ct);
        }
    }

    private readonly record struct LockFile(int Pid, int Port);

    // postmaster.pid: line 1 PID, line 2 data directory, line 3 start time, line 4 port.
    private static LockFile? ReadLockFile(string clusterDirectory)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(clusterDirectory, "postmaster.pid"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // A standalone backend writes a negative PID; it is not a server to adopt or signal.
        if (lines.Length < 4
            || !int.TryParse(lines[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0
            || !int.TryParse(lines[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            return null;
        return new LockFile(pid, port);
    }

    // ---- launching -------------------------------------------------------------------------------------------

    private readonly record struct Launched(Process Process, int Pid, int Port);

    /// <summary>Starts the postmaster on a free port, or on <paramref name="fixedPort"/> (a restart: no other port will do).</summary>
    private static async Task<Launched> LaunchAsync(Runner runner, string clusterDirectory, string password, EmbeddedPostgresOptions options,
        int? staleLockPid, int? fixedPort, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            var port = fixedPort ?? FindFreePort();
            List<string> arguments =
            [
                "-D", clusterDirectory,
                "-c", "listen_addresses=127.0.0.1",
                "-c", $"port={port.ToString(CultureInfo.InvariantCulture)}",
                // TCP only: a socket path under a deep data directory can exceed the 107-byte sun_path limit.
                "-c", "unix_socket_directories=",
                // One node's pools at their peak: Marten's and the registry's own (100 each), the tag listing's (20), the
                // daemon and a per-request settings read while 100 commands wait their turn on one model; 200 was below
                // that sum, and a burst then met "too many clients" (a 503).
                "-c", "max_connections=300",
            ];
            // Stated explicitly so a postgresql.conf edit cannot silently weaken a durable registry.
            var durability = options.Durable ? "on" : "off";
            arguments.AddRange(["-c", $"fsync={durability}", "-c", $"synchronous_commit={durability}", "-c", $"full_page_writes={durability}"]);

            var tail = new LogTail();
            var process = runner.Start(
                Path.Combine(runner.BinDirectory, ExecutableName("postgres")), arguments, tail, runner.RunAsServiceUser, newSession: true);
            var postmasterPid = 0;
            try
            {
                postmasterPid = await WaitUntilReadyAsync(process, clusterDirectory, port, password, tail, options.StartTimeout, ct);
            }
            catch (ServerExitedException) when (fixedPort is null && attempt < MaxPortAttempts && tail.Contains("could not bind"))
            {
                // Another process took the port between our probe and the server's bind.
                runner.Logger.LogDebug("Port {Port} was taken before PostgreSQL could bind it; retrying", port);
                process.Dispose();
                continue;
            }
            catch (ServerExitedException) when (tail.Contains("is still in use") && clock.Elapsed < options.StartTimeout)
            {
                // A killed postmaster's backends still hold its shared memory: each exits when it next notices the
                // postmaster is gone (a long query first finishes its current step). PostgreSQL refuses to start
                // beside them, rightly; wait for them rather than kill processes of a server we may not have started.
                runner.Logger.LogWarning("Processes of the previous PostgreSQL server still use its shared memory; starting again in a moment");
                process.Dispose();
                await Task.Delay(500, ct);
                continue;
            }
            catch (ServerExitedException) when (attempt < MaxPortAttempts && staleLockPid is { } stale && tail.Contains("already exists")
                && ReadLockFile(clusterDirectory)?.Pid == stale && !IsPostmasterOf(stale, clusterDirectory))
            {
                // The lock file names a live PID that is not this cluster's postmaster (PIDs are reused after a reboot
                // or container restart), so the postmaster that wrote it is gone and the file can go too.
                runner.Logger.LogWarning("Removing stale postmaster.pid naming PID {Pid}, which is not this cluster's postmaster", stale);
                File.Delete(Path.Combine(clusterDirectory, "postmaster.pid"));
                staleLockPid = null;
                process.Dispose();
                continue;
            }
            catch
            {
                // Startup failed or was cancelled after the server may have come up: stop it before giving up.
                if (ReadLockFile(clusterDirectory) is { } lockFile && IsOurs(lockFile.Pid, process))
                    postmasterPid = lockFile.Pid;
                await StopAsync(process, postmasterPid, runner.Logger);
                throw;
            }

            return new Launched(process, postmasterPid, port);
        }
    }

    private static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Returns the postmaster PID once the server answers queries.</summary>
    private static async Task<int> WaitUntilReadyAsync(
        Process process, string clusterDirectory, int port, string password, LogTail tail, TimeSpan timeout, CancellationToken ct)
    {
        var connectionString = BuildConnectionString(port, password, "postgres", pooling: false);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
                throw await ExitedAsync(process, tail, ct);
            try
            {
                await QueryOnceAsync(connectionString, ct);
                // Confirm that what answered is our server and learn the postmaster's PID (it differs from the
                // child's PID when runuser sits in between).
                if (ReadLockFile(clusterDirectory) is { } lockFile && lockFile.Port == port && IsOurs(lockFile.Pid, process))
                    return lockFile.Pid;
            }
            catch (PostgresException e) when (IsAuthenticationFailure(e))
            {
                // Something else may hold the port while our server fails to bind; its exit explains more.
                if (await HasExitedWithinAsync(process, TimeSpan.FromSeconds(2)))
                    throw await ExitedAsync(process, tail, ct);
                throw PasswordMismatch(clusterDirectory, e);
            }
            catch (NpgsqlException) when (!ct.IsCancellationRequested)
            {
                // Not accepting connections yet.
            }

            if (clock.Elapsed > timeout)
                throw new TimeoutException(
                    $"PostgreSQL did not accept connections on port {port} within {timeout}. Server log:{Environment.NewLine}{tail}");
            await Task.Delay(100, ct);
        }
    }

    private static async Task<ServerExitedException> ExitedAsync(Process process, LogTail tail, CancellationToken ct)
    {
        // Drain the redirected output so the tail holds the server's last words.
        await process.WaitForExitAsync(ct);
        return new ServerExitedException(
            $"PostgreSQL exited with code {process.ExitCode} during startup. Server log:{Environment.NewLine}{tail}");
    }

    private static async Task<bool> HasExitedWithinAsync(Process process, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsOurs(int pid, Process child) =>
        pid == child.Id || ParentPid(pid) == child.Id;

    private static async Task QueryOnceAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("select 1", connection);
        await command.ExecuteScalarAsync(ct);
    }

    private static bool IsAuthenticationFailure(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification;

    private static InvalidOperationException PasswordMismatch(string clusterDirectory, Exception inner) =>
        new($"The PostgreSQL cluster in '{clusterDirectory}' rejected the stored password for '{SuperUser}' ({inner.Message}); "
            + $"the {PasswordFileName} file beside it does not belong to this cluster.", inner);

    private static async Task EnsureDatabaseAsync(int port, string password, string database, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(BuildConnectionString(port, password, "postgres", pooling: false));
        await connection.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("select exists(select 1 from pg_database where datname = $1)", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = database });
        if ((bool)(await exists.ExecuteScalarAsync(ct))!)
            return;

        await using var create = new NpgsqlCommand($"create database \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        try
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another instance created it first.
        }
    }

    private static string BuildConnectionString(int port, string password, string database, bool pooling)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Password = password,
            Database = database,
            Pooling = pooling,
            MaxPoolSize = 100,
        };
        // Readiness probes and one-off admin connections should fail fast rather than wait the default 15 s.
        if (!pooling)
            builder.Timeout = 3;
        return builder.ConnectionString;
    }

    // ---- stopping --------------------------------------------------------------------------------------------

    private static async Task StopAsync(Process child, int postmasterPid, ILogger logger)
    {
        try
        {
            if (child.HasExited && (postmasterPid == 0 || !IsAlive(postmasterPid)))
                return;

            if (OperatingSystem.IsWindows())
            {
                // No signals on Windows; the embedded default is not supported there beyond compiling.
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync();
                return;
            }

            // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit. Before the
            // postmaster is known, the child is either postgres itself or runuser, which passes SIGTERM on.
            var target = postmasterPid != 0 ? postmasterPid : child.Id;
            Kill(target, postmasterPid != 0 ? SigInt : SigTerm);
            if (await ExitedWithinAsync(child, postmasterPid, ShutdownTimeout))
                return;

            logger.LogWarning("PostgreSQL (PID {Pid}) did not shut down within {Timeout}; sending SIGQUIT", target, ShutdownTimeout);
            Kill(target, SigQuit);
            if (await ExitedWithinAsync(child, postmasterPid, TimeSpan.FromSeconds(5)))
                return;

            Kill(target, SigKill);
            child.Kill(entireProcessTree: true);
            await ExitedWithinAsync(child, postmasterPid, TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            logger.LogWarning(e, "Stopping PostgreSQL failed");
        }
        finally
        {
            child.Dispose();
        }
    }

    private static async Task<bool> ExitedWithinAsync(Process child, int postmasterPid, TimeSpan wait)
    {
        // The child (postgres, or runuser waiting on it) exits after the postmaster; the PID check covers the rest.
        if (!await HasExitedWithinAsync(child, wait))
            return false;
        var clock = Stopwatch.StartNew();
        while (postmasterPid != 0 && IsAlive(postmasterPid) && clock.Elapsed < wait)
            await Task.Delay(50);
        return postmasterPid == 0 || !IsAlive(postmasterPid);
    }

    // ---- processes -------------------------------------------------------------------------------------------

    private sealed record Runner(string BinDirectory, string DataDirectory, bool RunAsServiceUser, ILogger Logger)
    {
        public Process Start(string executable, IReadOnlyList<string> arguments, LogTail tail, bool asServiceUser, bool newSession)
        {
            var info = new ProcessStartInfo
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // The service user must be able to resolve its working directory (initdb calls getcwd).
                WorkingDirectory = DataDirectory,
            };

            var command = new List<string>();
            // A session of its own keeps a terminal's Ctrl+C away from the server, so the app decides when it stops.
            if (newSession && !OperatingSystem.IsWindows() && FindTool("setsid") is { } setsid)
                command.Add(setsid);
            if (asServiceUser)
            {
                if (FindTool("runuser") is { } runuser)
                {
                    command.AddRange([runuser, "-u", ServiceUser, "--", executable]);
                    command.AddRange(arguments);
                }
                else
                {
                    command.AddRange(["su", ServiceUser, "-s", "/bin/sh", "-c",
                        "exec " + string.Join(' ', new[] { executable }.Concat(arguments).Select(ShellQuote))]);
                }
            }
            else
            {
                command.Add(executable);
                command.AddRange(arguments);
            }

            info.FileName = command[0];
            foreach (var argument in command.Skip(1))
                info.ArgumentList.Add(argument);

            var process = new Process { StartInfo = info };
            DataReceivedEventHandler forward = (_, e) =>
            {
                if (e.Data is not { } line)
                    return;
                tail.Add(line);
                Logger.LogDebug("{Program}: {Line}", Path.GetFileName(executable), line);
            };
            process.OutputDataReceived += forward;
            process.ErrorDataReceived += forward;
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        public async Task<int> RunAsync(
            string executable, IReadOnlyList<string> arguments, bool asServiceUser, TimeSpan timeout, CancellationToken ct, LogTail? tail = null)
        {
            using var process = Start(executable, arguments, tail ?? new LogTail(), asServiceUser, newSession: false);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                if (ct.IsCancellationRequested)
                    throw;
                throw new TimeoutException($"{Path.GetFileName(executable)} did not finish within {timeout}.");
            }

            return process.ExitCode;
        }

        public async Task RunCheckedAsync(
            string executable, IReadOnlyList<string> arguments, bool asServiceUser, TimeSpan timeout, CancellationToken ct)
        {
            var tail = new LogTail();
            var exitCode = await RunAsync(executable, arguments, asServiceUser, timeout, ct, tail);
            if (exitCode != 0)
                throw new InvalidOperationException(
                    $"{Path.GetFileName(executable)} failed with exit code {exitCode}. Output:{Environment.NewLine}{tail}");
        }

        private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

        // sbin is searched too: services often run with a PATH that lacks it, and runuser lives there.
        private static string? FindTool(string name) =>
            (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>The last lines a child wrote, for failure messages.</summary>
    private sealed class LogTail
    {
        private const int Capacity = 50;
        private readonly Queue<string> _lines = new();

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > Capacity)
                    _lines.Dequeue();
            }
        }

        public bool Contains(string text)
        {
            lock (_lines)
                return _lines.Any(l => l.Contains(text, StringComparison.OrdinalIgnoreCase));
        }

        public override string ToString()
        {
            lock (_lines)
                return string.Join(Environment.NewLine, _lines);
        }
    }

    private sealed class ServerExitedException(string message) : InvalidOperationException(message);

    private static bool IsRoot() =>
        !OperatingSystem.IsWindows() && (Environment.UserName == "root" || geteuid() == 0);

    private static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        // EPERM: the process exists but belongs to another user (the postgres user, seen from a non-root app).
        return kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == Eperm;
    }

    private static bool IsPostmasterOf(int pid, string clusterDirectory)
    {
        if (!OperatingSystem.IsLinux())
            return IsPostgresProcess(pid);

        // The postmaster's working directory is its data directory: an identical lock file there proves identity,
        // where a process name alone would also match an unrelated PostgreSQL that inherited a recycled PID.
        // Only the first lines (PID, directory, start time) are compared: later ones change while the server runs.
        try
        {
            var ours = File.ReadLines(Path.Combine(clusterDirectory, "postmaster.pid")).Take(3);
            var theirs = File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cwd/postmaster.pid").Take(3);
            return ours.SequenceEqual(theirs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsPostgresProcess(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.ProcessName.StartsWith("postgres", StringComparison.Ordinal)
                || process.ProcessName.StartsWith("postmaster", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    // Linux only (/proc); elsewhere the wrapper-free launch makes the postmaster the child itself.
    private static int? ParentPid(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // Fields after the parenthesised command name: state, ppid, ...
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static void Kill(int pid, int signal)
    {
        if (kill(pid, signal) == 0)
            return;
        var errno = Marshal.GetLastPInvokeError();
        if (errno != Esrch)
            throw new InvalidOperationException($"Could not send signal {signal} to PID {pid}: errno {errno}.");
    }

    [DllImport("libc", SetLastError = true)]
    [UnsupportedOSPlatform("windows")]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    [UnsupportedOSPlatform("windows")]
    private static extern uint geteuid();
}
