namespace Dtr.AspNetCore.Ui;

/// <summary>Settings of the web interface, passed to <c>MapRegistryUi</c>.</summary>
public sealed class RegistryUiOptions
{
    /// <summary>The configuration section, relative to <c>Registry</c>, that hosts usually bind: <c>Ui</c>.</summary>
    public const string SectionName = "Ui";

    /// <summary>The URL path the interface is served under. Default <c>/ui</c>; it must start with '/'.</summary>
    public string Path { get; set; } = "/ui";

    /// <summary>
    /// The name of one of the host's authentication schemes (for example an OpenID Connect scheme) that the sign-in
    /// page offers as single sign-on. The signed-in principal is mapped to a registry user by the host's
    /// <c>IRegistryUserMapper</c>. Null (the default) hides the single sign-on button.
    /// </summary>
    public string? SingleSignOnScheme { get; set; }

    /// <summary>The label of the single sign-on button, such as the identity provider's name. Default "Single sign-on".</summary>
    public string SingleSignOnDisplayName { get; set; } = "Single sign-on";

    /// <summary>The product name in page titles and the header. Default "Dtr".</summary>
    public string ProductName { get; set; } = "Dtr";
}
