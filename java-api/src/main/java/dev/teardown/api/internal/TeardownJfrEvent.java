package dev.teardown.api.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Timestamp;

/**
 * A teardown event read from the channel, as a JFR event: a recording opened in JDK Mission
 * Control lists them under "Teardown". The JFR start time is when this JVM read the event;
 * {@code recordedAt} is when the layer recorded it in the owning process.
 */
@Name("dev.teardown.Teardown")
@Label("Connection Teardown")
@Category("Teardown")
@Description("A connection teardown observed by Teardown's layer in some process")
@StackTrace(false)
public final class TeardownJfrEvent extends Event {
  @Label("Kind")
  public String kind;

  @Label("Close Mode")
  public String closeMode;

  @Label("Shutdown How")
  public String shutdownHow;

  @Label("Flags")
  public String flags;

  @Label("Framing Error")
  @Description("For a reset the layer made because the peer's stream was not framed as agreed")
  public String framingError;

  @Label("Process")
  public String process;

  @Label("PID")
  public long pid;

  @Label("User")
  @Description("Who the process ran as: the owner of the ring the event was read from")
  public String user;

  @Label("Socket")
  public long socket;

  @Label("Local")
  public String local;

  @Label("Remote")
  public String remote;

  @Label("Error")
  public String error;

  @Label("Disconnect Data")
  @DataAmount
  public long dataLength;

  @Label("First Shutdown")
  public String firstShutdown;

  @Label("Ending")
  public String ending;

  @Label("Kernel State")
  @Description("The kernel's TCP state just before the close (UNKNOWN when not read)")
  public String kernelState;

  @Label("Unread Bytes")
  @Description("Received bytes the program never read, as the kernel counted them (-1: not read)")
  @DataAmount
  public long unreadBytes = -1;

  @Label("Bytes Acknowledged")
  @Description("Bytes this end sent that the peer acknowledged, as the kernel counted them (-1: not read)")
  @DataAmount
  public long bytesAcked = -1;

  @Label("Lifetime")
  @Timespan(Timespan.NANOSECONDS)
  public long lifetime;

  @Label("Bytes Sent")
  @DataAmount
  public long bytesSent;

  @Label("Bytes Received")
  @DataAmount
  public long bytesReceived;

  @Label("Recorded At")
  @Timestamp(Timestamp.MILLISECONDS_SINCE_EPOCH)
  public long recordedAt;

  @Label("Sequence")
  public long sequence;
}
