Attribute VB_Name = "KamAddin"
' Ribbon callbacks of kam.xlam: each button runs one function of macros/ through the
' RunPython of the xlwings add-in (xlwings.xlam), so the Python side gets the active
' workbook as xw.Book.caller() and the interpreter and PYTHONPATH of the xlwings config.
' Keep this file ASCII outside string literals: build.py turns Chinese text inside
' literals into ChrW() calls so the module does not depend on the Windows code page
' (which is also why the title is a function: a Const cannot hold ChrW()).
Option Explicit

Private Const XLWINGS_RUNPYTHON As String = "xlwings.xlam!RunPython"
Private Function KamTitle() As String
    KamTitle = "大客户管理"
End Function

Private Sub RunKam(ByVal command As String, ByVal busy As String)
    If ActiveWorkbook Is Nothing Then
        MsgBox "请先打开或新建一个工作簿，再点击按钮。", vbExclamation, KamTitle()
        Exit Sub
    End If
    On Error GoTo Failed
    ' Python can run for a while on a large book: say so where Excel users look.
    Application.StatusBar = busy
    Application.Run XLWINGS_RUNPYTHON, command
    Application.StatusBar = False
    Exit Sub
Failed:
    Application.StatusBar = False
    MsgBox "无法启动 Python（" & Err.Description & "）。" & vbCrLf & _
        "请确认已启用 xlwings 加载项，并在命令行运行 kam addin doctor 查看需要修复的项目。", _
        vbExclamation, KamTitle()
End Sub

Public Sub KamValidate(control As IRibbonControl)
    RunKam "import macros.validate; macros.validate.main()", "正在校验本簿……"
End Sub

Public Sub KamClearMarks(control As IRibbonControl)
    RunKam "import macros.clear_marks; macros.clear_marks.main()", "正在清除标记……"
End Sub

Public Sub KamComputeTiers(control As IRibbonControl)
    RunKam "import macros.compute_tiers; macros.compute_tiers.main()", "正在计算等级……"
End Sub

Public Sub KamMerge(control As IRibbonControl)
    RunKam "import macros.merge; macros.merge.main()", "正在合并报送……"
End Sub

Public Sub KamRiskMarks(control As IRibbonControl)
    RunKam "import macros.risk_marks; macros.risk_marks.main()", "正在标记风险……"
End Sub

Public Sub KamNewTemplate(control As IRibbonControl)
    RunKam "import macros.new_template; macros.new_template.main()", "正在生成模板……"
End Sub
