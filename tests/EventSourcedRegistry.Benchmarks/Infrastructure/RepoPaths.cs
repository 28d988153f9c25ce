namespace EventSourcedRegistry.Benchmarks.Infrastructure;

public static class BuildInfo
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif
}

public static class RepoPaths
{
    /// <summary>The clone's root: the nearest directory above the harness's binaries that holds the solution file.</summary>
    public static string Root { get; } = FindRoot();

    public static string Project => Path.Combine(Root, "tests", "EventSourcedRegistry.Benchmarks");

    public static string DefaultResultsFile(string mode) => Path.Combine(Project, "results", $"latest-{mode}.md");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EventSourcedRegistry.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException(
            $"No EventSourcedRegistry.sln above {AppContext.BaseDirectory}: run the harness from its build output inside the clone.");
    }
}
