Function CDM_BREAKEVEN_UTILIZATION(deal)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_BREAKEVEN_UTILIZATION = XLPy.CallUDF("computedeal", "CDM_BREAKEVEN_UTILIZATION", Array(deal), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_BREAKEVEN_UTILIZATION = XLPy.CallUDF("computedeal", "CDM_BREAKEVEN_UTILIZATION", Array(deal))
        Exit Function
    #End If
failed:
    CDM_BREAKEVEN_UTILIZATION = Err.Description
End Function

Function CDM_CHECK(deal)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_CHECK = XLPy.CallUDF("computedeal", "CDM_CHECK", Array(deal), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_CHECK = XLPy.CallUDF("computedeal", "CDM_CHECK", Array(deal))
        Exit Function
    #End If
failed:
    CDM_CHECK = Err.Description
End Function

Function CDM_FIRM_COMMITMENT(deal)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_FIRM_COMMITMENT = XLPy.CallUDF("computedeal", "CDM_FIRM_COMMITMENT", Array(deal), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_FIRM_COMMITMENT = XLPy.CallUDF("computedeal", "CDM_FIRM_COMMITMENT", Array(deal))
        Exit Function
    #End If
failed:
    CDM_FIRM_COMMITMENT = Err.Description
End Function

Function CDM_GPUS_FROM_MW(facility_mw, gpu_sku, Optional pue, Optional network_overhead_pct)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_GPUS_FROM_MW = XLPy.CallUDF("computedeal", "CDM_GPUS_FROM_MW", Array(facility_mw, gpu_sku, pue, network_overhead_pct), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_GPUS_FROM_MW = XLPy.CallUDF("computedeal", "CDM_GPUS_FROM_MW", Array(facility_mw, gpu_sku, pue, network_overhead_pct))
        Exit Function
    #End If
failed:
    CDM_GPUS_FROM_MW = Err.Description
End Function

Function CDM_GPU_SPEC(gpu_sku, field)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_GPU_SPEC = XLPy.CallUDF("computedeal", "CDM_GPU_SPEC", Array(gpu_sku, field), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_GPU_SPEC = XLPy.CallUDF("computedeal", "CDM_GPU_SPEC", Array(gpu_sku, field))
        Exit Function
    #End If
failed:
    CDM_GPU_SPEC = Err.Description
End Function

Function CDM_INPUT(deal, name)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_INPUT = XLPy.CallUDF("computedeal", "CDM_INPUT", Array(deal, name), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_INPUT = XLPy.CallUDF("computedeal", "CDM_INPUT", Array(deal, name))
        Exit Function
    #End If
failed:
    CDM_INPUT = Err.Description
End Function

Function CDM_KW_PER_GPU(gpu_sku, Optional pue, Optional network_overhead_pct)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_KW_PER_GPU = XLPy.CallUDF("computedeal", "CDM_KW_PER_GPU", Array(gpu_sku, pue, network_overhead_pct), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_KW_PER_GPU = XLPy.CallUDF("computedeal", "CDM_KW_PER_GPU", Array(gpu_sku, pue, network_overhead_pct))
        Exit Function
    #End If
failed:
    CDM_KW_PER_GPU = Err.Description
End Function

Function CDM_MW_FROM_GPUS(gpus, gpu_sku, Optional pue, Optional network_overhead_pct)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_MW_FROM_GPUS = XLPy.CallUDF("computedeal", "CDM_MW_FROM_GPUS", Array(gpus, gpu_sku, pue, network_overhead_pct), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_MW_FROM_GPUS = XLPy.CallUDF("computedeal", "CDM_MW_FROM_GPUS", Array(gpus, gpu_sku, pue, network_overhead_pct))
        Exit Function
    #End If
failed:
    CDM_MW_FROM_GPUS = Err.Description
End Function

Function CDM_NPV(deal, Optional discount_rate_pct)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_NPV = XLPy.CallUDF("computedeal", "CDM_NPV", Array(deal, discount_rate_pct), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_NPV = XLPy.CallUDF("computedeal", "CDM_NPV", Array(deal, discount_rate_pct))
        Exit Function
    #End If
failed:
    CDM_NPV = Err.Description
End Function

Function CDM_PORTFOLIO(inputs, contracts, figure)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_PORTFOLIO = XLPy.CallUDF("computedeal", "CDM_PORTFOLIO", Array(inputs, contracts, figure), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_PORTFOLIO = XLPy.CallUDF("computedeal", "CDM_PORTFOLIO", Array(inputs, contracts, figure))
        Exit Function
    #End If
failed:
    CDM_PORTFOLIO = Err.Description
End Function

Function CDM_PORTFOLIO_SCHEDULE(inputs, contracts)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_PORTFOLIO_SCHEDULE = XLPy.CallUDF("computedeal", "CDM_PORTFOLIO_SCHEDULE", Array(inputs, contracts), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_PORTFOLIO_SCHEDULE = XLPy.CallUDF("computedeal", "CDM_PORTFOLIO_SCHEDULE", Array(inputs, contracts))
        Exit Function
    #End If
failed:
    CDM_PORTFOLIO_SCHEDULE = Err.Description
End Function

Function CDM_PORTFOLIO_SIMULATE(inputs, contracts, Optional paths, Optional seed, Optional risk)
    If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_PORTFOLIO_SIMULATE = XLPy.CallUDF("computedeal", "CDM_PORTFOLIO_SIMULATE", Array(inputs, contracts, paths, seed, risk), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_PORTFOLIO_SIMULATE = XLPy.CallUDF("computedeal", "CDM_PORTFOLIO_SIMULATE", Array(inputs, contracts, paths, seed, risk))
        Exit Function
    #End If
failed:
    CDM_PORTFOLIO_SIMULATE = Err.Description
End Function

Function CDM_SCHEDULE(deal)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_SCHEDULE = XLPy.CallUDF("computedeal", "CDM_SCHEDULE", Array(deal), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_SCHEDULE = XLPy.CallUDF("computedeal", "CDM_SCHEDULE", Array(deal))
        Exit Function
    #End If
failed:
    CDM_SCHEDULE = Err.Description
End Function

Function CDM_SELLER(deal, figure)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_SELLER = XLPy.CallUDF("computedeal", "CDM_SELLER", Array(deal, figure), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_SELLER = XLPy.CallUDF("computedeal", "CDM_SELLER", Array(deal, figure))
        Exit Function
    #End If
failed:
    CDM_SELLER = Err.Description
End Function

Function CDM_SIMULATE(deal, Optional paths, Optional seed, Optional risk)
    If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_SIMULATE = XLPy.CallUDF("computedeal", "CDM_SIMULATE", Array(deal, paths, seed, risk), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_SIMULATE = XLPy.CallUDF("computedeal", "CDM_SIMULATE", Array(deal, paths, seed, risk))
        Exit Function
    #End If
failed:
    CDM_SIMULATE = Err.Description
End Function

Function CDM_SUMMARY(deal, figure)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_SUMMARY = XLPy.CallUDF("computedeal", "CDM_SUMMARY", Array(deal, figure), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_SUMMARY = XLPy.CallUDF("computedeal", "CDM_SUMMARY", Array(deal, figure))
        Exit Function
    #End If
failed:
    CDM_SUMMARY = Err.Description
End Function

Function CDM_TABLE(deal, output, row_input, row_values, col_input, col_values)
    If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_TABLE = XLPy.CallUDF("computedeal", "CDM_TABLE", Array(deal, output, row_input, row_values, col_input, col_values), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_TABLE = XLPy.CallUDF("computedeal", "CDM_TABLE", Array(deal, output, row_input, row_values, col_input, col_values))
        Exit Function
    #End If
failed:
    CDM_TABLE = Err.Description
End Function

Function CDM_USD_PER_GPU_HOUR(deal)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_USD_PER_GPU_HOUR = XLPy.CallUDF("computedeal", "CDM_USD_PER_GPU_HOUR", Array(deal), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_USD_PER_GPU_HOUR = XLPy.CallUDF("computedeal", "CDM_USD_PER_GPU_HOUR", Array(deal))
        Exit Function
    #End If
failed:
    CDM_USD_PER_GPU_HOUR = Err.Description
End Function

Function CDM_VERSION()
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_VERSION = XLPy.CallUDF("computedeal", "CDM_VERSION", Array(), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_VERSION = XLPy.CallUDF("computedeal", "CDM_VERSION", Array())
        Exit Function
    #End If
failed:
    CDM_VERSION = Err.Description
End Function

Function CDM_WARNING_COUNT(deal)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        CDM_WARNING_COUNT = XLPy.CallUDF("computedeal", "CDM_WARNING_COUNT", Array(deal), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        CDM_WARNING_COUNT = XLPy.CallUDF("computedeal", "CDM_WARNING_COUNT", Array(deal))
        Exit Function
    #End If
failed:
    CDM_WARNING_COUNT = Err.Description
End Function

