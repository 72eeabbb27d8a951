' kam.xlam: the ribbon callbacks, KamRun and KamVersion. build.py puts this text, then the
' worksheet-function wrappers xlwings generates and their Chinese help, into the
' RibbonMyAddin module of the custom add-in template xlwings ships; RunPython and XLPy are
' that template's own xlwings module, in the same VBA project.
' Keep this file ASCII outside string literals: build.py turns Chinese text inside
' literals into ChrW() calls so the module does not depend on the Windows code page
' (which is also why the title is a function: a Const cannot hold ChrW()).
Option Explicit

Private Function KamTitle() As String
    KamTitle = "大客户管理"
End Function

' The kam version this add-in was built from (a pure VBA check that the module compiles).
Public Function KamVersion() As String
    KamVersion = "@KAM_VERSION@"
End Function

' What the status bar says while a job runs; "" for a job that does not exist.
Private Function KamBusy(ByVal job As String) As String
    Select Case job
        Case "validate": KamBusy = "正在校验本簿……"
        Case "clear_marks": KamBusy = "正在清除标记……"
        Case "compute_tiers": KamBusy = "正在计算等级……"
        Case "merge": KamBusy = "正在合并报送……"
        Case "risk_marks": KamBusy = "正在标记风险……"
        Case "new_template": KamBusy = "正在生成模板……"
        Case Else: KamBusy = ""
    End Select
End Function

' A file opened from e-mail or the web sits in Protected View: no ActiveWorkbook yet.
Private Function InProtectedView() As Boolean
    On Error Resume Next ' Excel for Mac has no Protected View
    InProtectedView = Not (Application.ActiveProtectedViewWindow Is Nothing)
End Function

' Run one job (validate, clear_marks, compute_tiers, merge, risk_marks, new_template) on the
' active workbook: macros.<job>.main() in Python. folder is for merge only: given, the
' folder dialog is skipped (kam addin selftest uses this).
Public Sub KamRun(ByVal job As String, Optional ByVal folder As String = "")
    Dim busy As String, arg As String
    busy = KamBusy(job)
    If busy = "" Then
        MsgBox "未知的任务：" & job, vbExclamation, KamTitle()
        Exit Sub
    End If
    If ActiveWorkbook Is Nothing Then
        If InProtectedView() Then
            MsgBox "请先点“启用编辑”，再点击按钮。", vbExclamation, KamTitle()
        Else
            MsgBox "请先打开或新建一个工作簿，再点击按钮。", vbExclamation, KamTitle()
        End If
        Exit Sub
    End If
    If folder <> "" Then arg = "'" & Replace(Replace(folder, "\", "\\"), "'", "\'") & "'"
    On Error GoTo Failed
    ' Python can run for a while on a large book: say so where Excel users look.
    Application.StatusBar = busy
    RunPython "import macros." & job & "; macros." & job & ".main(" & arg & ")"
    Application.StatusBar = False
    Exit Sub
Failed:
    Application.StatusBar = False
    MsgBox "无法启动 Python（" & Err.Description & "）。" & vbCrLf & _
        "请在命令行运行 kam addin doctor 查看需要修复的项目。", vbExclamation, KamTitle()
End Sub

Public Sub KamValidate(control As IRibbonControl)
    KamRun "validate"
End Sub

Public Sub KamClearMarks(control As IRibbonControl)
    KamRun "clear_marks"
End Sub

Public Sub KamComputeTiers(control As IRibbonControl)
    KamRun "compute_tiers"
End Sub

Public Sub KamMerge(control As IRibbonControl)
    KamRun "merge"
End Sub

Public Sub KamRiskMarks(control As IRibbonControl)
    KamRun "risk_marks"
End Sub

Public Sub KamNewTemplate(control As IRibbonControl)
    KamRun "new_template"
End Sub

' The ribbon's onLoad: runs once when Excel loads the add-in; gives the worksheet
' functions their Chinese help in the function wizard.
Public Sub KamRibbonLoaded(ribbon As IRibbonUI)
    KamDescribeFunctions
End Sub
