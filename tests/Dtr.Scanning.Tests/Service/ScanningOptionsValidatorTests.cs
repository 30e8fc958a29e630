using Dtr.Scanning.Service;

namespace Dtr.Scanning.Tests.Service;

public sealed class ScanningOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_NoErrors()
    {
        Assert.Empty(ScanningOptionsValidator.Validate(new ScanningOptions(), "Registry:Scanning"));
    }

    [Fact]
    public void Validate_WrongValues_NamesEachSetting()
    {
        var options = new ScanningOptions
        {
            Concurrency = 0,
            MaxAttempts = 0,
            JobLeaseDuration = TimeSpan.FromSeconds(1),
            UpdateInterval = TimeSpan.Zero,
            MaxArchiveBytes = 1,
            PublicKeyPem = "not a key",
        };
        options.DatabaseUrls.Add(new Uri("ftp://example.com/osv.zip"));

        var errors = ScanningOptionsValidator.Validate(options, "Registry:Scanning");

        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:Concurrency is 0", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:MaxAttempts is 0", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:JobLeaseDuration", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:UpdateInterval", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:MaxArchiveBytes", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:DatabaseUrls:0", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Registry:Scanning:PublicKeyPem", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_MissingKeyFile_NamesPath()
    {
        var options = new ScanningOptions { PublicKeyFile = "/nonexistent/dtr-key.pem" };

        var error = Assert.Single(ScanningOptionsValidator.Validate(options, "Registry:Scanning"));

        Assert.Contains("/nonexistent/dtr-key.pem", error, StringComparison.Ordinal);
    }
}
