namespace EventSourcedRegistry.Tests.Support;

/// <summary>The clone the tests run from: files that ship beside the code (README, docs, container files).</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative)
    {
        var path = PathOf(relative);
        Assert.True(File.Exists(path), $"{relative} is missing from the repository.");
        return File.ReadAllText(path);
    }

    /// <summary>A path relative to the root, with forward slashes.</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EventSourcedRegistry.sln")))
            directory = directory.Parent;
        return directory?.FullName
               ?? throw new InvalidOperationException($"No EventSourcedRegistry.sln above {AppContext.BaseDirectory}: run the tests inside the clone.");
    }
}
