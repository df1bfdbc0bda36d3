/// The version `/health` and `/ping` report.
public enum KaiwaVersion {
    public static let current = "0.1.0"
}
